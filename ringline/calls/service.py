"""Reading calls: list with filters and paging, and get one."""

import asyncio
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls import repository
from ringline.calls.filters import (
    CallFilters,
    parse_call_filters,
    parse_paging,
    raise_if_errors,
)
from ringline.calls.serializers import (
    Linker,
    call_detail_to_dict,
    call_to_dict,
    document_fragment,
    no_link,
)
from ringline.core.database import Reader
from ringline.core.errors import InvalidRequest, NotFound
from ringline.core.http import parse_query
from ringline.core.ids import is_valid_id
from ringline.core.pagination import (
    CursorCodec,
    PageRequest,
    PaginationError,
    fingerprint,
    page_meta,
)
from ringline.keys.service import Principal

LIST_SORT = "created_at:desc"


# A parsed list query holds only frozen values, so one parse serves every repeat
# of the same query string, such as a dashboard polling a list. Parsing took
# about 80 µs of a List Calls request in the benchmark (measured in the server).
PARSED_QUERIES = 1024


@functools.lru_cache(maxsize=PARSED_QUERIES)
def parse_list_query(
    query: bytes, cursors: CursorCodec, workspace_id: str
) -> tuple[CallFilters, PageRequest, str]:
    """Parse a raw List Calls query string; a repeated query string is
    returned from memory.

    Raises InvalidRequest as parse_list_request does. Errors are not kept.
    """
    return parse_list_request(parse_query(query), cursors, workspace_id)


def parse_list_request(
    params: Mapping[str, str], cursors: CursorCodec, workspace_id: str
) -> tuple[CallFilters, PageRequest, str]:
    """Parse the List Calls query into filters, the page wanted and the cursor
    fingerprint; raises InvalidRequest naming every malformed parameter."""
    errors: list[str] = []
    filters = parse_call_filters(params, errors)
    page, limit, include_total = parse_paging(params, errors)
    raise_if_errors(errors)

    # The workspace is part of the fingerprint, so a cursor works for its own
    # workspace only.
    issued_for = fingerprint([workspace_id, LIST_SORT, filters.fingerprint_parts()])
    request = decode_cursor(
        params, cursors, issued_for, PageRequest(page, limit, include_total, None)
    )
    return filters, request, issued_for


def decode_cursor(
    params: Mapping[str, str],
    cursors: CursorCodec,
    issued_for: str,
    request: PageRequest,
) -> PageRequest:
    """Return the request moved to the position of the cursor parameter, if any;
    raises InvalidRequest for a cursor issued elsewhere or tampered with."""
    if params.get("cursor") is None:
        return request
    try:
        after, page = cursors.decode(params["cursor"], issued_for)
    except PaginationError as error:
        raise InvalidRequest(str(error)) from None
    return PageRequest(page, request.limit, request.include_total, after)


async def list_calls(
    reader: Reader,
    principal: Principal,
    query: bytes,
    cursors: CursorCodec,
    link: Linker = no_link,
) -> dict[str, Any]:
    """Return one page of List Calls for the raw query string."""
    filters, request, issued_for = parse_list_query(
        query, cursors, principal.workspace_id
    )

    rows, total = await page_and_total(reader, principal.workspace_id, filters, request)
    has_next = len(rows) > request.limit
    rows = rows[: request.limit]
    documents = repository.reads_documents(reader.dialect, "list")

    next_cursor = None
    if has_next:
        next_position = repository.page_row_position(rows[-1], documents)
        next_cursor = cursors.encode(next_position, request.page + 1, issued_for)
    item = document_fragment if documents else call_to_dict
    return {
        "data": [item(row, link) for row in rows],
        "meta": page_meta(request, total, next_cursor),
    }


async def page_and_total(
    reader: Reader,
    workspace_id: str,
    filters: CallFilters,
    request: PageRequest,
    sort: str = repository.DEFAULT_SORT,
    columns: str = "list",
) -> tuple[Sequence[Any], int | None]:
    """Read the page, plus one row that shows whether a next page exists, and
    the total when requested. The two queries run side by side on two
    connections."""
    window = repository.PageWindow(
        request.limit + 1, request.offset, request.after, sort
    )
    page = repository.list_page(reader, workspace_id, filters, window, columns)
    if not request.include_total:
        return await page, None
    total = repository.count(reader, workspace_id, filters)
    rows, count = await asyncio.gather(page, total)
    return rows, count


def validate_call_id(call_id: str) -> None:
    if len(call_id) > 64 or not is_valid_id(call_id):
        raise InvalidRequest(
            "id must be at most 64 characters of letters, digits, '_' and '-' "
            f"(got {call_id[:70]!r})"
        )


async def get_call(
    session: AsyncSession, principal: Principal, call_id: str, link: Linker = no_link
) -> dict[str, Any]:
    validate_call_id(call_id)
    row = await repository.get_detail(session, principal.workspace_id, call_id)
    if row is None:
        raise NotFound(f"call {call_id} not found")
    return call_detail_to_dict(row, link)
