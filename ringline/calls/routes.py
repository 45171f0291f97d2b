from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from ringline.calls import service
from ringline.calls.schemas import CallDetail, CallList
from ringline.core.dependencies import Cursors, ReadSession, require
from ringline.core.http import cacheable_json_response
from ringline.core.openapi import error_responses
from ringline.keys.service import Principal

router = APIRouter(prefix="/v1/calls", tags=["calls"])
CanRead = Annotated[Principal, Depends(require("calls:read"))]


def _documented(description: str) -> object:
    return Query(None, description=description)


@router.get(
    "",
    response_model=CallList,
    responses=error_responses(400, 401, 403, 429),
    summary="List calls, newest first",
)
async def list_calls(
    request: Request,
    session: ReadSession,
    principal: CanRead,
    cursors: Cursors,
    agent_id: str | None = _documented("One agent id or a comma-separated list."),
    status: str | None = _documented(
        "Statuses or aliases (queued, active, ended, no-answer, …), comma-separated."
    ),
    from_: str | None = Query(
        None,
        alias="from",
        description="Lower bound on created_at, inclusive: a timestamp or a date.",
    ),
    to: str | None = _documented(
        "Upper bound on created_at, inclusive; a date means its whole day."
    ),
    timezone: str | None = _documented("IANA zone in which dates are read."),
    call_id: str | None = _documented("Call ids, comma-separated."),
    batch_call_id: str | None = _documented("Batch ids, comma-separated."),
    call_direction: str | None = _documented("outbound or inbound."),
    type: str | None = _documented("phone or web."),
    end_reason: str | None = _documented("End reasons, comma-separated."),
    from_number: str | None = _documented("Caller number, exact E.164."),
    to_number: str | None = _documented("Destination number, exact E.164."),
    page: str | None = _documented("Page number from 1."),
    limit: str | None = _documented("Items per page, 1 to 100 (default 20)."),
    cursor: str | None = _documented("next_cursor of a previous page."),
    include_total: str | None = _documented("false skips counting."),
) -> Response:
    payload = await service.list_calls(
        session, principal, request.query_params, cursors
    )
    return cacheable_json_response(request, payload)


@router.get(
    "/{call_id}",
    response_model=CallDetail,
    responses=error_responses(400, 401, 403, 404, 429),
    summary="Get a call with its transcript",
)
async def get_call(
    request: Request, session: ReadSession, principal: CanRead, call_id: str
) -> Response:
    payload = await service.get_call(session, principal, call_id)
    return cacheable_json_response(request, payload)
