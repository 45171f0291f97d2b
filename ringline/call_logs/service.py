"""Reading call logs: the analysis view of calls, listed, one, or in detail."""

import functools
from typing import Any

from ringline.call_logs.filters import parse_log_filters, parse_sort
from ringline.call_logs.serializers import call_log_details_to_dict, call_log_to_dict
from ringline.calls import repository
from ringline.calls.filters import CallFilters, parse_paging, raise_if_errors
from ringline.calls.serializers import Linker, document_fragment, no_link
from ringline.calls.service import (
    PARSED_QUERIES,
    decode_cursor,
    page_and_total,
    validate_call_id,
)
from ringline.core.database import Reader
from ringline.core.errors import NotFound
from ringline.core.http import parse_query
from ringline.core.pagination import (
    CursorCodec,
    PageRequest,
    fingerprint,
    page_meta,
)
from ringline.keys.service import Principal

TRANSCRIPT_INDEX = len(repository.LOG_COLUMNS)


@functools.lru_cache(maxsize=PARSED_QUERIES)
def parse_log_query(
    query: bytes, cursors: CursorCodec, workspace_id: str
) -> tuple[CallFilters, str, PageRequest, str]:
    """Parse a raw List Call Logs query string into filters, sort, the page
    requested and the cursor fingerprint.

    A repeated query string is returned from memory. Raises InvalidRequest
    naming every malformed parameter, and errors are not kept.
    """
    params = parse_query(query)
    errors: list[str] = []
    filters = parse_log_filters(params, errors)
    sort = parse_sort(params, errors)
    page, limit, include_total = parse_paging(params, errors)
    raise_if_errors(errors)

    # The workspace and the sort are part of the fingerprint, so a cursor only
    # continues the list it came from.
    issued_for = fingerprint(
        ["call_logs", workspace_id, sort, filters.fingerprint_parts()]
    )
    request = decode_cursor(
        params, cursors, issued_for, PageRequest(page, limit, include_total, None)
    )
    return filters, sort, request, issued_for


async def list_call_logs(
    reader: Reader,
    principal: Principal,
    query: bytes,
    cursors: CursorCodec,
    link: Linker = no_link,
) -> dict[str, Any]:
    """Return one page of List Call Logs for the raw query string."""
    filters, sort, request, issued_for = parse_log_query(
        query, cursors, principal.workspace_id
    )
    rows, total = await page_and_total(
        reader, principal.workspace_id, filters, request, sort, columns="log"
    )

    documents = repository.reads_documents(reader.dialect, "log")

    next_cursor = None
    if len(rows) > request.limit:
        rows = rows[: request.limit]
        position = repository.page_row_position(rows[-1], documents, sort)
        next_cursor = cursors.encode(position, request.page + 1, issued_for)
    item = document_fragment if documents else call_log_to_dict
    return {
        "data": [item(row, link) for row in rows],
        "meta": page_meta(request, total, next_cursor),
    }


async def get_call_log(
    reader: Reader, principal: Principal, call_id: str, link: Linker = no_link
) -> dict[str, Any]:
    validate_call_id(call_id)
    row = await repository.get_log(
        reader, principal.workspace_id, call_id, with_conversation=False
    )
    if row is None:
        raise NotFound(f"call log {call_id} not found")
    return call_log_to_dict(row, link)


async def get_call_log_details(
    reader: Reader, principal: Principal, call_id: str, link: Linker = no_link
) -> dict[str, Any]:
    validate_call_id(call_id)
    row = await repository.get_log(
        reader, principal.workspace_id, call_id, with_conversation=True
    )
    if row is None:
        raise NotFound(f"call log {call_id} not found")
    moments = await repository.timeline(reader, call_id)
    transcript, segments = row[TRANSCRIPT_INDEX], row[TRANSCRIPT_INDEX + 1]
    return call_log_details_to_dict(row, transcript, segments, moments, link)
