from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ringline.core.dependencies import Cursors, ReadSession, Session, require
from ringline.core.http import cacheable_json_response, json_response, query_values
from ringline.core.openapi import PAGING_PARAMETERS, error_responses, query_parameters
from ringline.keys.service import Principal
from ringline.webhooks import service
from ringline.webhooks.schemas import (
    Delivery,
    DeliveryList,
    Webhook,
    WebhookCreate,
    WebhookList,
    WebhookUpdate,
)

router = APIRouter(prefix="/v1/user-webhooks", tags=["webhooks"])
CanRead = Annotated[Principal, Depends(require("webhooks:read"))]
CanWrite = Annotated[Principal, Depends(require("webhooks:write", writes=True))]

# Declared for the OpenAPI document only: the service parses the query string
# itself, to name every invalid parameter in one 400.
DELIVERY_LIST_PARAMETERS = query_parameters(
    ("event_type", "Event types or their aliases, comma-separated."),
    ("call_id", "Call ids, comma-separated."),
    ("outcome", "pending, succeeded or failed, comma-separated."),
    *PAGING_PARAMETERS,
)


def _allow_private(request: Request) -> bool:
    return request.app.state.settings.webhook_allow_private


async def _checked_create(request: Request, body: WebhookCreate) -> WebhookCreate:
    await service.check_destination(body.url, _allow_private(request))
    return body


async def _checked_update(request: Request, body: WebhookUpdate) -> WebhookUpdate:
    if body.url is not None:
        await service.check_destination(body.url, _allow_private(request))
    return body


# FastAPI resolves dependencies in the order of the route's parameters. Routes
# list these after the key check and before Session, so the host lookup, which
# can take seconds, runs before the transaction opens. On SQLite an open write
# transaction holds the process's write lock.
CheckedCreate = Annotated[WebhookCreate, Depends(_checked_create)]
CheckedUpdate = Annotated[WebhookUpdate, Depends(_checked_update)]


@router.post(
    "",
    status_code=201,
    response_model=Webhook,
    responses=error_responses(400, 401, 403, 413, 429),
    summary="Create a webhook; the response shows its secret, once",
)
async def create_webhook(
    principal: CanWrite, body: CheckedCreate, session: Session
) -> Response:
    webhook = await service.create_webhook(session, principal.workspace_id, body)
    return json_response(webhook, status_code=201)


@router.get(
    "",
    response_model=WebhookList,
    responses=error_responses(400, 401, 403, 429),
    summary="List webhooks, newest first",
    openapi_extra={"parameters": query_parameters(*PAGING_PARAMETERS)},
)
async def list_webhooks(
    request: Request, session: ReadSession, principal: CanRead, cursors: Cursors
) -> Response:
    payload = await service.list_webhooks(
        session, principal.workspace_id, query_values(request), cursors
    )
    return cacheable_json_response(request, payload)


@router.get(
    "/{webhook_id}",
    response_model=Webhook,
    responses=error_responses(400, 401, 403, 404, 429),
    summary="Get a webhook; its secret is masked",
)
async def get_webhook(
    request: Request, session: ReadSession, principal: CanRead, webhook_id: str
) -> Response:
    webhook = await service.get_webhook(session, principal.workspace_id, webhook_id)
    return cacheable_json_response(request, webhook)


@router.patch(
    "/{webhook_id}",
    response_model=Webhook,
    responses=error_responses(400, 401, 403, 404, 413, 429),
    summary="Change a webhook; a new secret is shown in this response only",
)
async def update_webhook(
    principal: CanWrite, body: CheckedUpdate, session: Session, webhook_id: str
) -> Response:
    webhook = await service.update_webhook(
        session, principal.workspace_id, webhook_id, body
    )
    return json_response(webhook)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses=error_responses(400, 401, 403, 404, 429),
    summary="Delete a webhook and its delivery log",
)
async def delete_webhook(
    principal: CanWrite, session: Session, webhook_id: str
) -> Response:
    await service.delete_webhook(session, principal.workspace_id, webhook_id)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryList,
    responses=error_responses(400, 401, 403, 404, 429),
    summary="List a webhook's delivery attempts, newest first",
    openapi_extra={"parameters": DELIVERY_LIST_PARAMETERS},
)
async def list_deliveries(
    request: Request,
    session: ReadSession,
    principal: CanRead,
    cursors: Cursors,
    webhook_id: str,
) -> Response:
    payload = await service.list_deliveries(
        session, principal.workspace_id, webhook_id, query_values(request), cursors
    )
    return cacheable_json_response(request, payload)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=Delivery,
    responses=error_responses(400, 401, 403, 404, 409, 429),
    summary="Queue one more attempt of a delivery's event",
)
async def redeliver(
    principal: CanWrite, session: Session, webhook_id: str, delivery_id: str
) -> Response:
    queued = await service.redeliver(
        session, principal.workspace_id, webhook_id, delivery_id
    )
    return json_response(queued, status_code=202)
