from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ringline.call_logs import service
from ringline.call_logs.schemas import CallLog, CallLogDetails, CallLogList
from ringline.core.dependencies import Reads, authorize, require
from ringline.core.http import (
    RequestOnlyRoute,
    cacheable_json_response,
    query_string,
)
from ringline.core.openapi import PAGING_PARAMETERS, error_responses, query_parameters
from ringline.keys.service import Principal
from ringline.recordings.dependencies import linker_for

router = APIRouter(prefix="/v1/call-logs", tags=["call logs"])
# The list endpoint is called straight from the app's own routes (see
# ringline.app.add_request_only_routes), past the included-router layer.
list_router = APIRouter(
    prefix="/v1/call-logs", tags=["call logs"], route_class=RequestOnlyRoute
)
CanRead = Annotated[Principal, Depends(require("calls:read"))]

# Declared for the OpenAPI document only: the service parses the query string
# itself, to name every bad parameter in one 400.
LIST_PARAMETERS = query_parameters(
    ("agent_id", "One agent id or a comma-separated list."),
    ("status", "Statuses or aliases, comma-separated."),
    ("sentiment", "positive, neutral, negative or unknown, comma-separated."),
    ("batch_call_id", "Batch ids, comma-separated."),
    ("end_reason", "End reasons, comma-separated."),
    ("start_date", "Lower bound on created_at, inclusive: a timestamp or a date."),
    ("end_date", "Upper bound on created_at, inclusive; a date means its whole day."),
    ("timezone", "IANA zone in which dates are read, default UTC."),
    ("duration_min", "Shortest duration in whole seconds, inclusive."),
    ("duration_max", "Longest duration in whole seconds, inclusive."),
    ("q", "Words that must all occur in the transcript or summary."),
    ("created_at", "Sort by creation: asc or desc (the default order is desc)."),
    ("duration", "Sort by duration: asc or desc; calls without one come last."),
    *PAGING_PARAMETERS,
)


@list_router.get(
    "",
    response_model=CallLogList,
    responses=error_responses(400, 401, 403, 429),
    summary="List call logs with their analysis",
    openapi_extra={"parameters": LIST_PARAMETERS},
)
async def list_call_logs(request: Request) -> Response:
    # The key check, reader and cursor codec are not FastAPI dependencies here,
    # because FastAPI took about 25 µs to resolve each dependency.
    principal = await authorize(request, "calls:read")
    state = request.app.state
    link = linker_for(request, principal)
    payload = await service.list_call_logs(
        state.reader, principal, query_string(request), state.cursors, link
    )
    return cacheable_json_response(request, payload)


@router.get(
    "/{call_id}",
    response_model=CallLog,
    responses=error_responses(400, 401, 403, 404, 429),
    summary="Get a call log",
)
async def get_call_log(
    request: Request, reader: Reads, principal: CanRead, call_id: str
) -> Response:
    link = linker_for(request, principal)
    payload = await service.get_call_log(reader, principal, call_id, link)
    return cacheable_json_response(request, payload)


@router.get(
    "/{call_id}/details",
    response_model=CallLogDetails,
    responses=error_responses(400, 401, 403, 404, 429),
    summary="Get a call log with its transcript, segments and timeline",
)
async def get_call_log_details(
    request: Request, reader: Reads, principal: CanRead, call_id: str
) -> Response:
    link = linker_for(request, principal)
    payload = await service.get_call_log_details(reader, principal, call_id, link)
    return cacheable_json_response(request, payload)
