"""Every query on the calls table."""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    and_,
    func,
    insert,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls.filters import CallFilters
from ringline.calls.models import Call
from ringline.core.pagination import Position


def _as_stored(column: Any) -> Any:
    """Read a column without Python-side decoding.

    On SQLite a timestamp is then the text 'YYYY-MM-DDTHH:MM:SS.fffZ', already
    the API's format, and metadata is its JSON text, which the serializer embeds
    as it is: decoding both for every row only to encode them again was most of
    the cost of a page. PostgreSQL's driver still returns datetimes.
    """
    return type_coerce(column, Text).label(column.key)


# The columns of the list view: everything but the transcript.
LIST_COLUMNS = (
    Call.id,
    Call.agent_id,
    Call.agent_version_number,
    Call.batch_call_id,
    Call.type,
    Call.call_direction,
    Call.from_phone_number,
    Call.to_phone_number,
    Call.status,
    Call.end_reason,
    Call.duration_ms,
    Call.recording_path,
    _as_stored(Call.call_metadata),
    _as_stored(Call.scheduled_at),
    _as_stored(Call.created_at),
    _as_stored(Call.updated_at),
    _as_stored(Call.initiated_at),
    _as_stored(Call.answered_at),
    _as_stored(Call.ended_at),
)
DETAIL_COLUMNS = (*LIST_COLUMNS, Call.transcript)

# Filters whose columns lead an index, in the order they are preferred for
# splitting a multi-value filter into one index range read per value.
SPLITTABLE = (
    ("statuses", Call.status),
    ("agent_ids", Call.agent_id),
    ("batch_call_ids", Call.batch_call_id),
    ("end_reasons", Call.end_reason),
)


def _value_conditions(
    filters: CallFilters, skip_field: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for field, column in (
        ("agent_ids", Call.agent_id),
        ("statuses", Call.status),
        ("call_ids", Call.id),
        ("batch_call_ids", Call.batch_call_id),
        ("call_directions", Call.call_direction),
        ("types", Call.type),
        ("end_reasons", Call.end_reason),
    ):
        values = getattr(filters, field)
        if values is None or field == skip_field:
            continue
        if len(values) == 1:
            conditions.append(column == values[0])
        else:
            conditions.append(column.in_(values))
    if filters.from_number is not None:
        conditions.append(Call.from_phone_number == filters.from_number)
    if filters.to_number is not None:
        conditions.append(Call.to_phone_number == filters.to_number)
    return conditions


def _conditions(
    workspace_id: str, filters: CallFilters, skip_field: str | None = None
) -> list[ColumnElement[bool]]:
    conditions = [
        Call.workspace_id == workspace_id,
        *_value_conditions(filters, skip_field),
    ]
    if filters.created_from is not None:
        conditions.append(Call.created_at >= filters.created_from)
    if filters.created_before is not None:
        conditions.append(Call.created_at < filters.created_before)
    return conditions


def _after(position: Position) -> ColumnElement[bool]:
    # The first term is a plain range on the index, so both databases seek to the
    # position; the second only sorts out rows that share its created_at.
    return and_(
        Call.created_at <= position.created_at,
        or_(Call.created_at < position.created_at, Call.id < position.id),
    )


def _ordered(query: Select[Any]) -> Select[Any]:
    return query.order_by(Call.created_at.desc(), Call.id.desc())


def _split_filter(filters: CallFilters) -> tuple[str, Any, tuple[str, ...]] | None:
    for field, column in SPLITTABLE:
        values = getattr(filters, field)
        if values is not None and len(values) > 1:
            return field, column, values
    return None


def _page_query(
    workspace_id: str,
    filters: CallFilters,
    columns: Sequence[Any],
    limit: int,
    offset: int,
    after: Position | None,
) -> Select[Any]:
    """Build the page query.

    A filter with several values on an indexed column (status=a,b) becomes one
    limited index read per value, merged: a plain IN made PostgreSQL walk the
    date index and filter, which is slow for rare values.
    """
    split = _split_filter(filters)
    conditions = _conditions(workspace_id, filters, split[0] if split else None)
    if after is not None:
        conditions.append(_after(after))

    if split is None:
        return _ordered(select(*columns).where(*conditions)).limit(limit).offset(offset)

    _, column, values = split
    branches = []
    for value in values:
        branch = _ordered(select(*columns).where(*conditions, column == value))
        branches.append(select(*branch.limit(offset + limit).subquery().c))
    merged = union_all(*branches).subquery()
    return (
        select(*merged.c)
        .order_by(merged.c.created_at.desc(), merged.c.id.desc())
        .limit(limit)
        .offset(offset)
    )


def position_of(row: Row[Any]) -> Position:
    """Return the keyset position of a row read with LIST_COLUMNS."""
    created_at = row.created_at
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at)
    return Position(created_at, row.id)


async def list_page(
    session: AsyncSession,
    workspace_id: str,
    filters: CallFilters,
    limit: int,
    offset: int,
    after: Position | None,
) -> Sequence[Row[Any]]:
    query = _page_query(workspace_id, filters, LIST_COLUMNS, limit, offset, after)
    return (await session.execute(query)).all()


async def count(session: AsyncSession, workspace_id: str, filters: CallFilters) -> int:
    query = (
        select(func.count())
        .select_from(Call)
        .where(*_conditions(workspace_id, filters))
    )
    return await session.scalar(query) or 0


async def get_detail(
    session: AsyncSession, workspace_id: str, call_id: str
) -> Row[Any] | None:
    query = select(*DETAIL_COLUMNS).where(
        Call.id == call_id, Call.workspace_id == workspace_id
    )
    return (await session.execute(query)).first()


async def add_call(session: AsyncSession, call: Call) -> None:
    session.add(call)
    await session.flush()


async def get_for_update(
    session: AsyncSession, workspace_id: str, call_id: str
) -> Call | None:
    query = (
        select(Call)
        .where(Call.id == call_id, Call.workspace_id == workspace_id)
        .with_for_update()
    )
    return await session.scalar(query)


async def existing_ids(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(await session.scalars(select(Call.id).where(Call.id.in_(chunk))))
    return found


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        await session.execute(insert(Call.__table__), list(rows[start : start + 1000]))


async def iterate(
    session: AsyncSession, workspace_id: str, filters: CallFilters, batch_size: int
) -> AsyncIterator[Row[Any]]:
    """Yield every matching call in list order, one keyset page at a time."""
    after: Position | None = None
    while True:
        query = _page_query(workspace_id, filters, DETAIL_COLUMNS, batch_size, 0, after)
        rows = (await session.execute(query)).all()
        for row in rows:
            yield row
        if len(rows) < batch_size:
            return
        after = position_of(rows[-1])
