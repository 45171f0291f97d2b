"""Every query on the calls table."""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Row,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles

from ringline.agents.models import Agent, AgentVersion
from ringline.calls.filters import CallFilters
from ringline.calls.models import Call, CallEvent
from ringline.core.database import Reader, SessionReader, UTCDateTime
from ringline.core.json_sql import JsonObject, JsonValue
from ringline.core.pagination import Position
from ringline.workspaces.models import Workspace


def _as_stored(column: Any) -> Any:
    """Read a column without Python-side decoding.

    On SQLite a timestamp is then the text 'YYYY-MM-DDTHH:MM:SS.fffZ', already
    the API's format, and metadata is its JSON text, which the serializer embeds
    as it is: decoding both for every row only to encode them again was most of
    the cost of a page.
    """
    return type_coerce(column, Text).label(column.key)


class TimestampText(ColumnElement[str]):
    """A timestamp column read as the API's text, 'YYYY-MM-DDTHH:MM:SS.fffZ'.

    SQLite stores it in that form already. PostgreSQL formats it with to_char,
    at about 0.7 µs a value against 5 µs for formatting the driver's datetime in
    Python: on a page of 20 calls that was half a millisecond of CPU.
    """

    inherit_cache = True
    type = Text()

    def __init__(self, column: Any) -> None:
        self.column = column


@compiles(TimestampText)
def _timestamp_text_stored(element: TimestampText, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(TimestampText, "postgresql")
def _timestamp_text_postgresql(element: TimestampText, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


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
# The call log view: the list columns and the analysis, without the transcript.
LOG_COLUMNS = (
    *LIST_COLUMNS,
    Call.sentiment,
    Call.summary,
    _as_stored(Call.analysis),
    Call.analysis_status,
    Call.latency_ms,
)
COLUMN_SETS = {"list": LIST_COLUMNS, "detail": DETAIL_COLUMNS, "log": LOG_COLUMNS}

# List orders: the sort keys, each ascending or not. The duration keys put
# calls with no duration last both ways (see models.py).
SORT_KEYS: dict[str, tuple[tuple[str, bool], ...]] = {
    "created_at:desc": (("created_at", False), ("id", False)),
    "created_at:asc": (("created_at", True), ("id", True)),
    "duration:desc": (("duration_desc", False), ("created_at", False), ("id", False)),
    "duration:asc": (("duration_asc", True), ("created_at", True), ("id", True)),
}
DEFAULT_SORT = "created_at:desc"
NO_DURATION_DESC = -1
NO_DURATION_ASC = 2**62

# Filters whose columns lead an index, in the order they are preferred for
# splitting a multi-value filter into one index range read per value.
SPLITTABLE = (
    ("statuses", Call.status),
    ("agent_ids", Call.agent_id),
    ("batch_call_ids", Call.batch_call_id),
    ("end_reasons", Call.end_reason),
    ("sentiments", Call.sentiment),
)


VALUE_FILTERS = (
    ("agent_ids", Call.agent_id),
    ("statuses", Call.status),
    ("call_ids", Call.id),
    ("batch_call_ids", Call.batch_call_id),
    ("call_directions", Call.call_direction),
    ("types", Call.type),
    ("end_reasons", Call.end_reason),
    ("sentiments", Call.sentiment),
)
NUMBER_FILTERS = (
    ("from_number", Call.from_phone_number),
    ("to_number", Call.to_phone_number),
)
SPLIT_COLUMNS = dict(SPLITTABLE)
STORED_TIMESTAMP = UTCDateTime()


@dataclass(frozen=True, slots=True)
class QueryShape:
    """The set of filters a list query has, without their values.

    Statements are built once per shape with bound parameters and reused, since
    building and caching a fresh statement cost about as much as running it.
    """

    single: tuple[str, ...] = ()
    many: tuple[tuple[str, int], ...] = ()
    numbers: tuple[str, ...] = ()
    created_from: bool = False
    created_before: bool = False
    duration_min: bool = False
    duration_max: bool = False
    search: bool = False
    split: tuple[str, int] | None = None
    after: bool = False
    columns: str = "list"
    sort: str = DEFAULT_SORT
    # True when rows are read as JSON documents (DOCUMENT_COLUMNS), not columns.
    documents: bool = False


@dataclass(frozen=True, slots=True)
class PageWindow:
    """A window of list rows to read: how many, from where, in which order."""

    limit: int
    offset: int = 0
    after: Position | None = None
    sort: str = DEFAULT_SORT


def _shape(
    filters: CallFilters,
    after: bool,
    columns: str,
    sort: str = DEFAULT_SORT,
    documents: bool = False,
) -> QueryShape:
    split = None
    for field, _column in SPLITTABLE:
        values = getattr(filters, field)
        if values is not None and len(values) > 1:
            split = (field, len(values))
            break
    single, many = [], []
    for field, _column in VALUE_FILTERS:
        values = getattr(filters, field)
        if values is None or (split and field == split[0]):
            continue
        if len(values) == 1:
            single.append(field)
        else:
            many.append((field, len(values)))
    return QueryShape(
        single=tuple(single),
        many=tuple(many),
        numbers=tuple(n for n, _ in NUMBER_FILTERS if getattr(filters, n) is not None),
        created_from=filters.created_from is not None,
        created_before=filters.created_before is not None,
        duration_min=filters.duration_min_ms is not None,
        duration_max=filters.duration_max_ms is not None,
        search=filters.search_words is not None,
        split=split,
        after=after,
        columns=columns,
        sort=sort,
        documents=documents,
    )


def _parameters(
    workspace_id: str, filters: CallFilters, shape: QueryShape
) -> dict[str, Any]:
    parameters: dict[str, Any] = {"workspace_id": workspace_id}
    for field in shape.single:
        parameters[field] = getattr(filters, field)[0]
    for field, _count in shape.many:
        for index, value in enumerate(getattr(filters, field)):
            parameters[f"{field}_{index}"] = value
    for field in shape.numbers:
        parameters[field] = getattr(filters, field)
    if shape.created_from:
        parameters["created_from"] = filters.created_from
    if shape.created_before:
        parameters["created_before"] = filters.created_before
    if shape.duration_min:
        parameters["duration_min"] = filters.duration_min_ms
    if shape.duration_max:
        parameters["duration_max"] = filters.duration_max_ms
    if shape.search:
        parameters["search"] = filters.search_words
    if shape.split is not None:
        for index, value in enumerate(getattr(filters, shape.split[0])):
            parameters[f"split_{index}"] = value
    return parameters


def _conditions(shape: QueryShape) -> list[ColumnElement[bool]]:
    columns = dict(VALUE_FILTERS)
    conditions = [Call.workspace_id == bindparam("workspace_id")]
    for field in shape.single:
        conditions.append(columns[field] == bindparam(field))
    for field, count in shape.many:
        values = [bindparam(f"{field}_{index}") for index in range(count)]
        conditions.append(columns[field].in_(values))
    for field, column in NUMBER_FILTERS:
        if field in shape.numbers:
            conditions.append(column == bindparam(field))
    if shape.created_from:
        conditions.append(Call.created_at >= bindparam("created_from"))
    if shape.created_before:
        conditions.append(Call.created_at < bindparam("created_before"))
    if shape.duration_min:
        conditions.append(Call.duration_ms >= bindparam("duration_min"))
    if shape.duration_max:
        conditions.append(Call.duration_ms <= bindparam("duration_max"))
    if shape.search:
        conditions.append(MatchesWords(bindparam("search")))
    if shape.after:
        conditions.append(_after(_sort_columns(shape.sort, Call.__table__.c)))
    return conditions


def _sort_columns(sort: str, columns: Any) -> list[tuple[Any, bool, str]]:
    """Return (expression, ascending, parameter name) for each key of a sort,
    over the given columns (the table's, or a merged subquery's)."""
    expressions = {
        "created_at": columns.created_at,
        "id": columns.id,
        "duration_desc": func.coalesce(
            columns.duration_ms, literal_column(str(NO_DURATION_DESC))
        ),
        "duration_asc": func.coalesce(
            columns.duration_ms, literal_column(str(NO_DURATION_ASC))
        ),
    }
    return [
        (expressions[name], ascending, f"after_{name}")
        for name, ascending in SORT_KEYS[sort]
    ]


def _after(keys: list[tuple[Any, bool, str]]) -> ColumnElement[bool]:
    """Build the condition for rows after a position in the sort order.

    Each level is a plain range on its key, so both databases seek the index
    to the position, and only rows tied on that key look at the next one.
    """
    (expression, ascending, name), rest = keys[0], keys[1:]
    value = bindparam(name)
    beyond = expression > value if ascending else expression < value
    if not rest:
        return beyond
    reached = expression >= value if ascending else expression <= value
    return and_(reached, or_(beyond, _after(rest)))


def _order_by(sort: str, columns: Any) -> list[Any]:
    return [
        expression.asc() if ascending else expression.desc()
        for expression, ascending, _name in _sort_columns(sort, columns)
    ]


def _ordered(query: Select[Any], sort: str) -> Select[Any]:
    return query.order_by(*_order_by(sort, Call.__table__.c))


def _page_statement(shape: QueryShape) -> Select[Any]:
    """Build the page query for a shape.

    A filter with several values on an indexed column (status=a,b) becomes one
    limited index read per value, merged: a plain IN made PostgreSQL walk the
    date index and filter, which is slow for rare values.
    """
    columns = COLUMN_SETS[shape.columns]
    conditions = _conditions(shape)
    limit, offset = bindparam("limit"), bindparam("offset")
    if shape.split is None:
        query = _ordered(select(*columns).where(*conditions), shape.sort)
        return _as_response(query.limit(limit).offset(offset), shape)

    field, count = shape.split
    column = SPLIT_COLUMNS[field]
    branches = []
    for index in range(count):
        branch = _ordered(
            select(*columns).where(*conditions, column == bindparam(f"split_{index}")),
            shape.sort,
        )
        # Both bounds are named: SQLite renders a LIMIT without OFFSET with an
        # anonymous OFFSET parameter, which the cached parameter list lacks.
        limited = branch.limit(bindparam("depth")).offset(bindparam("branch_offset"))
        branches.append(select(*limited.subquery().c))
    merged = union_all(*branches).subquery()
    page = (
        select(*merged.c)
        .order_by(*_order_by(shape.sort, merged.c))
        .limit(limit)
        .offset(offset)
    )
    return _as_response(page, shape)


# The timestamp columns, in the order of the API's objects.
TIMESTAMP_NAMES = (
    "scheduled_at",
    "created_at",
    "updated_at",
    "initiated_at",
    "answered_at",
    "ended_at",
)
TIMESTAMP_COLUMNS = frozenset(TIMESTAMP_NAMES)


JSON_COLUMNS = frozenset({"call_metadata", "analysis"})


def _as_response(page: Select[Any], shape: QueryShape) -> Select[Any]:
    """Select a page's rows again in the form the caller reads: a JSON document
    per row for the list and log views, the API's text otherwise."""
    if shape.documents:
        return _as_documents(page, shape)
    return _as_response_text(page, shape.sort)


# Rows of the list and log views read as documents: the API object as JSON
# text, then the values that the service needs beside it.
DOCUMENT_VIEWS = frozenset({"list", "log"})
DOCUMENT_COLUMNS = ("document", "id", "created_at", "duration_ms", "recording_path")
# On SQLite, a page of 21 documents took no longer to read than its columns,
# and List Calls took 40 to 80 µs less. With json_build_object, PostgreSQL
# List Calls took 140 to 230 µs more, so PostgreSQL rows are read as columns
# and serialized in Python.
DOCUMENT_DIALECTS = frozenset({"sqlite"})


def reads_documents(dialect: Dialect, columns: str) -> bool:
    """Return whether page rows of a view come as documents on this database."""
    return columns in DOCUMENT_VIEWS and dialect.name in DOCUMENT_DIALECTS


def _as_documents(page: Select[Any], shape: QueryShape) -> Select[Any]:
    """Select each row of a page as (document, id, created_at, duration_ms,
    recording_path), where the document is the call or call log object as JSON.

    The document's recording_url is null and its last value, so the service
    can put a signed link in its place without parsing the JSON. As in
    _as_response_text, the JSON is built for the page's rows only.
    """
    rows = page.subquery()
    fields = _call_fields(rows.c)
    if shape.columns == "log":
        fields += _analysis_fields(rows.c)
    fields.append(("recording_url", null()))
    return select(
        JsonObject(fields).label("document"),
        rows.c.id,
        _response_text(rows.c.created_at),
        rows.c.duration_ms,
        rows.c.recording_path,
    ).order_by(*_order_by(shape.sort, rows.c))


def _call_fields(columns: Any) -> list[tuple[str, Any]]:
    """Return the call object's fields except recording_url, in the API's order."""
    fields: list[tuple[str, Any]] = [
        (name, columns[name])
        for name in (
            "id",
            "agent_id",
            "agent_version_number",
            "batch_call_id",
            "type",
            "call_direction",
            "from_phone_number",
            "to_phone_number",
            "status",
            "end_reason",
        )
    ]
    # Whole seconds, halves rounded up. SQLite divides two integers to an integer.
    halves_up = (columns.duration_ms + literal_column("500")).self_group()
    seconds = halves_up.op("/")(literal_column("1000"))
    fields += [
        ("duration_seconds", seconds),
        ("duration_ms", columns.duration_ms),
        ("metadata", JsonValue(columns.call_metadata)),
    ]
    fields += [(name, TimestampText(columns[name])) for name in TIMESTAMP_NAMES]
    return fields


def _analysis_fields(columns: Any) -> list[tuple[str, Any]]:
    """Return the fields a call log adds to the call object, in the API's order."""
    return [
        ("call_id", columns.id),
        ("sentiment", columns.sentiment),
        ("summary", columns.summary),
        ("analysis", JsonValue(columns.analysis)),
        ("analysis_status", columns.analysis_status),
        ("latency_ms", columns.latency_ms),
    ]


def _as_response_text(page: Select[Any], sort: str) -> Select[Any]:
    """Select a page's rows again with timestamps and JSON as the API's text.

    Formatting outside the limited query keeps it off the rows that an OFFSET
    skips, which on page 1,000 are 19,980. JSON read as text is embedded in the
    response as it is, rather than decoded by the driver and encoded again.
    """
    rows = page.subquery()
    columns = [_response_text(column) for column in rows.c]
    return select(*columns).order_by(*_order_by(sort, rows.c))


def _response_text(column: Any) -> Any:
    if column.key in TIMESTAMP_COLUMNS:
        return TimestampText(column).label(column.key)
    if column.key in JSON_COLUMNS:
        return cast(column, Text).label(column.key)
    return column


def _count_statement(shape: QueryShape) -> Select[Any]:
    conditions = _conditions(shape)
    if shape.split is not None:
        field, _count = shape.split
        values = [bindparam(f"split_{index}") for index in range(_count)]
        conditions.append(SPLIT_COLUMNS[field].in_(values))
    return select(func.count()).select_from(Call).where(*conditions)


TIMESTAMP_PARAMETERS = ("created_from", "created_before", "after_created_at")


class MatchesWords(ColumnElement[bool]):
    """True for calls whose transcript or summary contains every search word.

    It reads the full-text index of each database (see the call logs migration);
    the parameter is the words, turned into each database's query by
    search_argument.
    """

    inherit_cache = True
    type = Boolean()

    def __init__(self, words: Any) -> None:
        self.words = words


@compiles(MatchesWords, "sqlite")
def _matches_words_sqlite(element: MatchesWords, compiler: Any, **kw: Any) -> str:
    words = compiler.process(element.words, **kw)
    return (
        "calls.rowid IN (SELECT rowid FROM call_search "
        f"WHERE call_search MATCH {words})"
    )


@compiles(MatchesWords, "postgresql")
def _matches_words_postgresql(element: MatchesWords, compiler: Any, **kw: Any) -> str:
    words = compiler.process(element.words, **kw)
    return f"calls.search_vector @@ plainto_tsquery('simple', {words})"


def search_argument(words: Sequence[str], dialect: Dialect) -> str:
    """Return the words as the full-text query of the dialect: all must occur."""
    if dialect.name == "sqlite":
        # Each word is a quoted string, so FTS5 reads no operators in it.
        return " ".join('"' + word.replace('"', '""') + '"' for word in words)
    return " ".join(words)


# Callables given (sql, arguments) for each statement sent past SQLAlchemy, which
# its engine events cannot see; the benchmark records its floor queries with it.
raw_statement_observers: list[Callable[[str, list[Any]], None]] = []
_fixed_statements: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}


# The SQL of the last COMPILED_SHAPES query shapes. A shape fixes how many values
# each list filter has, so clients can send very many of them: kept without a
# bound, with their SQLAlchemy statements, 600 requests of large shapes grew a
# server to 3.4 GB.
COMPILED_SHAPES = 512


@lru_cache(maxsize=COMPILED_SHAPES)
def _compiled(
    kind: str, shape: QueryShape, dialect: Dialect
) -> tuple[str, tuple[str, ...]]:
    """Return the SQL text of a statement and its parameter names in order."""
    statement = _page_statement(shape) if kind == "page" else _count_statement(shape)
    result = statement.compile(dialect=dialect)
    return str(result), tuple(result.positiontup or ())


async def _run_raw(
    reader: Reader | SessionReader,
    kind: str,
    shape: QueryShape,
    parameters: dict[str, Any],
) -> list[Any]:
    """Run a cached statement straight on the driver connection.

    Through SQLAlchemy's execution a list query cost 1.4 to 1.7 ms more than
    the same SQL sent to the driver, mostly in aiosqlite thread hops (nine per
    request against one). Rows come back as tuples in the column order.
    """
    sql, arguments = _prepared(kind, shape, parameters, reader.dialect)
    return await _run_prepared(reader, sql, list(arguments))


async def _run_prepared(
    reader: Reader | SessionReader, sql: str, arguments: list[Any]
) -> list[Any]:
    for observe in raw_statement_observers:
        observe(sql, arguments)
    return await reader.fetch(sql, arguments)


def _prepared(
    kind: str, shape: QueryShape, parameters: dict[str, Any], dialect: Dialect
) -> tuple[str, tuple[Any, ...]]:
    """Return the SQL of a cached statement and its arguments in order."""
    sql, names = _compiled(kind, shape, dialect)
    for name in TIMESTAMP_PARAMETERS:
        value = parameters.get(name)
        if value.__class__ is str:
            # A created_at read from a page row: on SQLite the stored text, on
            # PostgreSQL the text the list query formats.
            if dialect.name == "sqlite":
                continue
            value = datetime.fromisoformat(value)
        if value is not None:
            parameters[name] = STORED_TIMESTAMP.process_bind_param(value, dialect)
    if "search" in parameters:
        parameters["search"] = search_argument(parameters["search"], dialect)
    return sql, tuple(parameters[name] for name in names)


async def _fetch_page(
    reader: Reader | SessionReader,
    workspace_id: str,
    filters: CallFilters,
    page: PageWindow,
    columns: str,
) -> Sequence[Any]:
    sql, arguments = _prepared_page(
        reader.dialect, workspace_id, filters, page, columns
    )
    return await _run_prepared(reader, sql, list(arguments))


# Every argument and the result are immutable, so a page request repeated with
# the same filters and window reuses its SQL and arguments. Building them took
# about 60,000 of 1.5 million CPU instructions of a List Calls request
# (callgrind, in process).
@lru_cache(maxsize=1024)
def _prepared_page(
    dialect: Dialect,
    workspace_id: str,
    filters: CallFilters,
    page: PageWindow,
    columns: str,
) -> tuple[str, tuple[Any, ...]]:
    documents = reads_documents(dialect, columns)
    shape = _shape(filters, page.after is not None, columns, page.sort, documents)
    parameters = _parameters(workspace_id, filters, shape)
    parameters.update(
        limit=page.limit,
        offset=page.offset,
        depth=page.offset + page.limit,
        branch_offset=0,
    )
    if page.after is not None:
        parameters.update(
            after_created_at=page.after.created_at,
            after_id=page.after.id,
            after_duration_desc=page.after.sort_value,
            after_duration_asc=page.after.sort_value,
        )
    return _prepared("page", shape, parameters, dialect)


ID_INDEX = 0
DURATION_INDEX = 10
CREATED_AT_INDEX = 14


def position_of(row: Sequence[Any], sort: str = DEFAULT_SORT) -> Position:
    """Return the keyset position of a row read with LIST_COLUMNS first."""
    return _position(row[CREATED_AT_INDEX], row[ID_INDEX], row[DURATION_INDEX], sort)


def document_position(row: Sequence[Any], sort: str = DEFAULT_SORT) -> Position:
    """Return the keyset position of a row read as a document (DOCUMENT_COLUMNS)."""
    _document, call_id, created_at, duration_ms, _recording_path = row
    return _position(created_at, call_id, duration_ms, sort)


def page_row_position(
    row: Sequence[Any], documents: bool, sort: str = DEFAULT_SORT
) -> Position:
    """Return the keyset position of a page row, read as documents or not."""
    if documents:
        return document_position(row, sort)
    return position_of(row, sort)


def _position(
    created_at: datetime | str, call_id: str, duration_ms: int | None, sort: str
) -> Position:
    sort_value = None
    if sort == "duration:desc":
        sort_value = _or_default(duration_ms, NO_DURATION_DESC)
    elif sort == "duration:asc":
        sort_value = _or_default(duration_ms, NO_DURATION_ASC)
    return Position(created_at, call_id, sort_value)


def _or_default(value: int | None, default: int) -> int:
    return default if value is None else value


async def list_page(
    reader: Reader,
    workspace_id: str,
    filters: CallFilters,
    page: PageWindow,
    columns: str = "list",
) -> Sequence[Any]:
    """Read one page of calls; columns is "list" or "log" (with the analysis)."""
    return await _fetch_page(reader, workspace_id, filters, page, columns)


async def count(reader: Reader, workspace_id: str, filters: CallFilters) -> int:
    shape = _shape(filters, after=False, columns="list")
    parameters = _parameters(workspace_id, filters, shape)
    rows = await _run_raw(reader, "count", shape, parameters)
    return rows[0][0]


def _log_statement(with_conversation: bool) -> Select[Any]:
    columns: tuple[Any, ...] = LOG_COLUMNS
    if with_conversation:
        columns = (*LOG_COLUMNS, Call.transcript, _as_stored(Call.transcript_segments))
    return select(*columns).where(
        Call.id == bindparam("call_id"), Call.workspace_id == bindparam("workspace_id")
    )


TIMELINE_STATEMENT = (
    select(CallEvent.event, _as_stored(CallEvent.occurred_at))
    .where(CallEvent.call_id == bindparam("call_id"))
    .order_by(CallEvent.occurred_at, CallEvent.id)
)
# One row per version of the agent (one row with null agent columns when the
# agent is missing or deleted, none when the workspace is missing).
CREATE_CONTEXT_STATEMENT = (
    select(
        Workspace.from_phone_number,
        cast(Workspace.enabled_countries, Text),
        Agent.id,
        AgentVersion.version_number,
        AgentVersion.is_published,
        AgentVersion.from_phone_number,
    )
    .select_from(Workspace)
    .outerjoin(
        Agent,
        and_(
            Agent.id == bindparam("agent_id"),
            Agent.workspace_id == Workspace.id,
            Agent.deleted_at.is_(None),
        ),
    )
    .outerjoin(AgentVersion, AgentVersion.agent_id == Agent.id)
    .where(Workspace.id == bindparam("workspace_id"))
    .order_by(AgentVersion.version_number)
)
FIXED_STATEMENTS: dict[str, Select[Any]] = {
    "create_context": CREATE_CONTEXT_STATEMENT,
    "log": _log_statement(with_conversation=False),
    "log_details": _log_statement(with_conversation=True),
    "timeline": TIMELINE_STATEMENT,
}


async def _run_fixed(
    reader: Reader | SessionReader, name: str, parameters: dict[str, Any]
) -> list[Any]:
    """Run one of FIXED_STATEMENTS straight on the driver, compiled once."""
    key = (name, reader.dialect.name)
    compiled = _fixed_statements.get(key)
    if compiled is None:
        result = FIXED_STATEMENTS[name].compile(dialect=reader.dialect)
        compiled = (str(result), tuple(result.positiontup or ()))
        _fixed_statements[key] = compiled
    sql, names = compiled
    return await reader.fetch(sql, [parameters[name] for name in names])


async def get_log(
    reader: Reader, workspace_id: str, call_id: str, with_conversation: bool
) -> Sequence[Any] | None:
    """Read one call log row (LOG_COLUMNS), with the transcript and its segments
    after them when with_conversation is set."""
    name = "log_details" if with_conversation else "log"
    rows = await _run_fixed(
        reader, name, {"call_id": call_id, "workspace_id": workspace_id}
    )
    return rows[0] if rows else None


@dataclass(frozen=True, slots=True)
class CreateContext:
    """The stored values a create is validated against: the workspace's caller
    number and enabled countries, and the agent's versions as (number,
    published, caller), oldest first."""

    workspace_caller: str | None
    enabled_countries: list[str] | None
    agent_found: bool
    versions: list[tuple[int, bool, str | None]]


async def create_context(
    reader: Reader, workspace_id: str, agent_id: str
) -> CreateContext | None:
    """Read what a create is validated against, in one statement. Return None
    when the workspace does not exist."""
    rows = await _run_fixed(
        reader, "create_context", {"workspace_id": workspace_id, "agent_id": agent_id}
    )
    if not rows:
        return None
    caller, countries, found, *_ = rows[0]
    versions = [
        (number, bool(published), version_caller)
        for _, _, _, number, published, version_caller in rows
        if number is not None
    ]
    enabled = orjson.loads(countries) if countries is not None else None
    return CreateContext(caller, enabled, found is not None, versions)


async def timeline(reader: Reader, call_id: str) -> list[Any]:
    """Return the (event, occurred_at) moments of a call in time order."""
    return await _run_fixed(reader, "timeline", {"call_id": call_id})


async def get_detail(
    session: AsyncSession, workspace_id: str, call_id: str
) -> Row[Any] | None:
    query = select(*DETAIL_COLUMNS).where(
        Call.id == call_id, Call.workspace_id == workspace_id
    )
    return (await session.execute(query)).first()


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
    await _insert_in_chunks(session, Call.__table__, rows)


async def insert_events(
    session: AsyncSession, events: Sequence[dict[str, Any]]
) -> None:
    """Insert timeline moments, each a dict of call_id, event and occurred_at."""
    await _insert_in_chunks(session, CallEvent.__table__, events)


async def _insert_in_chunks(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    for start in range(0, len(rows), 1000):
        await session.execute(insert(table), list(rows[start : start + 1000]))


async def iterate(
    reader: Reader | SessionReader,
    workspace_id: str,
    filters: CallFilters,
    batch_size: int,
) -> AsyncIterator[Any]:
    """Yield every matching call in list order, one keyset page at a time."""
    after: Position | None = None
    while True:
        window = PageWindow(limit=batch_size, after=after)
        rows = await _fetch_page(reader, workspace_id, filters, window, "detail")
        for row in rows:
            yield row
        if len(rows) < batch_size:
            return
        after = position_of(rows[-1])
