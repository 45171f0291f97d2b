from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from ringline.calls import lifecycle, service
from ringline.calls.schemas import Call, CallCreate, CallDetail, CallList
from ringline.core.dependencies import (
    ReadSession,
    Session,
    authorize,
    require,
)
from ringline.core.http import (
    RequestOnlyRoute,
    cacheable_json_response,
    json_response,
    query_string,
)
from ringline.core.openapi import (
    PAGING_PARAMETERS,
    error_responses,
    query_parameters,
)
from ringline.keys.service import Principal
from ringline.recordings.dependencies import linker_for

router = APIRouter(prefix="/v1/calls", tags=["calls"])
# The list endpoint is called straight from the app's own routes (see
# ringline.app.add_request_only_routes), past the included-router layer.
list_router = APIRouter(
    prefix="/v1/calls", tags=["calls"], route_class=RequestOnlyRoute
)
CanRead = Annotated[Principal, Depends(require("calls:read"))]
CanWrite = Annotated[Principal, Depends(require("calls:write", writes=True))]


# Declared for the OpenAPI document only: the service parses the query string
# itself (to name every bad parameter in one 400), and declaring them as route
# parameters cost about half a millisecond per request.
LIST_PARAMETERS = query_parameters(
    ("agent_id", "One agent id or a comma-separated list."),
    (
        "status",
        "Statuses or aliases (queued, active, ended, no-answer, …), comma-separated.",
    ),
    ("from", "Lower bound on created_at, inclusive: a timestamp or a date."),
    ("to", "Upper bound on created_at, inclusive; a date means its whole day."),
    ("timezone", "IANA zone in which dates are read, default UTC."),
    ("call_id", "Call ids, comma-separated."),
    ("batch_call_id", "Batch ids, comma-separated."),
    ("call_direction", "outbound or inbound."),
    ("type", "phone or web."),
    ("end_reason", "End reasons, comma-separated."),
    ("from_number", "Caller number, exact E.164."),
    ("to_number", "Destination number, exact E.164."),
    *PAGING_PARAMETERS,
)


@list_router.get(
    "",
    response_model=CallList,
    responses=error_responses(400, 401, 403, 429),
    summary="List calls, newest first",
    openapi_extra={"parameters": LIST_PARAMETERS},
)
async def list_calls(request: Request) -> Response:
    # The key check, reader and cursor codec are not FastAPI dependencies here,
    # because FastAPI took about 25 µs to resolve each dependency.
    principal = await authorize(request, "calls:read")
    state = request.app.state
    link = linker_for(request, principal)
    payload = await service.list_calls(
        state.reader, principal, query_string(request), state.cursors, link
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
    link = linker_for(request, principal)
    payload = await service.get_call(session, principal, call_id, link)
    return cacheable_json_response(request, payload)


@router.post(
    "",
    status_code=201,
    response_model=Call,
    responses=error_responses(400, 401, 403, 404, 409, 413, 429),
    summary="Create a call; it is dialed in the background",
)
async def create_call(
    request: Request,
    principal: CanWrite,
    body: CallCreate,
    idempotency_key: Annotated[
        str | None,
        Header(description="Repeats within 24 hours replay the first answer."),
    ] = None,
) -> Response:
    state = request.app.state
    created = await lifecycle.create_call(
        state.reader,
        state.call_intake,
        principal.workspace_id,
        body,
        idempotency_key,
    )
    headers = {"idempotent-replayed": "true"} if created.replayed else None
    return Response(
        content=created.body,
        status_code=created.status_code,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "/{call_id}/cancel",
    response_model=Call,
    responses=error_responses(400, 401, 403, 404, 409, 429),
    summary="Cancel a call, or hang up a live one",
)
async def cancel_call(principal: CanWrite, session: Session, call_id: str) -> Response:
    call = await lifecycle.cancel_call(session, principal.workspace_id, call_id)
    return json_response(call)
