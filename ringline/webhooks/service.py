"""Webhooks: subscriptions to call events, and the log of their deliveries."""

import base64
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls.filters import (
    parse_ids,
    parse_paging,
    parse_values,
    raise_if_errors,
    split_values,
)
from ringline.core.errors import Conflict, InvalidRequest, NotFound
from ringline.core.ids import is_valid_id, new_id
from ringline.core.pagination import (
    CursorCodec,
    PageRequest,
    PaginationError,
    Position,
    fingerprint,
    page_meta,
)
from ringline.core.time import utc_now
from ringline.webhooks import repository
from ringline.webhooks.models import Webhook, WebhookDelivery
from ringline.webhooks.repository import DeliveryFilters
from ringline.webhooks.schemas import (
    WebhookCreate,
    WebhookUpdate,
    canonical_event_types,
)
from ringline.webhooks.serializers import delivery_to_dict, webhook_to_dict
from ringline.webhooks.urls import UnsafeUrl, resolve_and_check

log = structlog.get_logger()

GENERATED_SECRET_BYTES = 24
DELIVERY_STATES = ("pending", "succeeded", "failed")
NOT_NULLABLE = ("url", "events", "secret", "is_active", "retry_count", "timeout_ms")
WEBHOOK_LIST_SORT = "webhooks:created_at:desc"
DELIVERY_LIST_SORT = "webhook_deliveries:created_at:desc"


def generate_secret() -> str:
    """Return a secret in the Standard Webhooks form: whsec_ and base64 of 24
    random bytes."""
    key = secrets.token_bytes(GENERATED_SECRET_BYTES)
    return "whsec_" + base64.b64encode(key).decode("ascii")


async def check_destination(url: str, allow_private: bool) -> None:
    """Check a webhook URL with the server's settings and resolve its host."""
    try:
        await resolve_and_check(url, allow_private)
    except UnsafeUrl as error:
        raise InvalidRequest(f"url: {error}") from None


def _validate_id(name: str, value: str) -> None:
    if not is_valid_id(value):
        raise InvalidRequest(
            f"{name} must be at most 64 characters of letters, digits, '_' and '-' "
            f"(got {value[:70]!r})"
        )


async def require_webhook(
    session: AsyncSession,
    workspace_id: str,
    webhook_id: str,
    for_update: bool = False,
) -> Webhook:
    _validate_id("id", webhook_id)
    webhook = await repository.get_webhook(
        session, workspace_id, webhook_id, for_update
    )
    if webhook is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return webhook


async def create_webhook(
    session: AsyncSession, workspace_id: str, body: WebhookCreate
) -> dict[str, Any]:
    """Create a webhook and return it with its secret, which no later response
    shows."""
    now = utc_now()
    webhook = Webhook(
        id=new_id("webhook"),
        workspace_id=workspace_id,
        url=body.url,
        events=body.events,
        secret=body.secret if body.secret is not None else generate_secret(),
        is_active=body.is_active,
        retry_count=body.retry_count,
        timeout_ms=body.timeout_ms,
        created_at=now,
        updated_at=now,
    )
    await repository.add_webhook(session, webhook)
    log.info("webhook.created", webhook_id=webhook.id, workspace_id=workspace_id)
    return webhook_to_dict(webhook, show_secret=True)


async def get_webhook(
    session: AsyncSession, workspace_id: str, webhook_id: str
) -> dict[str, Any]:
    webhook = await require_webhook(session, workspace_id, webhook_id)
    return webhook_to_dict(webhook)


async def update_webhook(
    session: AsyncSession, workspace_id: str, webhook_id: str, body: WebhookUpdate
) -> dict[str, Any]:
    """Change the given fields. A new secret is shown in this response only."""
    fields = body.given_fields()
    nulls = [name for name in NOT_NULLABLE if name in fields and fields[name] is None]
    if nulls:
        raise InvalidRequest([f"{name} must not be null" for name in nulls])
    webhook = await require_webhook(session, workspace_id, webhook_id, True)

    for name, value in fields.items():
        setattr(webhook, name, value)
    if fields:
        webhook.updated_at = utc_now()
        await session.flush()
        log.info("webhook.updated", webhook_id=webhook.id, fields=sorted(fields))
    return webhook_to_dict(webhook, show_secret="secret" in fields)


async def delete_webhook(
    session: AsyncSession, workspace_id: str, webhook_id: str
) -> None:
    """Delete a webhook and its delivery log, pending deliveries included."""
    webhook = await require_webhook(session, workspace_id, webhook_id, True)
    await repository.delete_webhook(session, webhook)
    log.info("webhook.deleted", webhook_id=webhook_id, workspace_id=workspace_id)


async def list_webhooks(
    session: AsyncSession,
    workspace_id: str,
    params: Mapping[str, str],
    cursors: CursorCodec,
) -> dict[str, Any]:
    errors: list[str] = []
    paging = parse_paging(params, errors)
    raise_if_errors(errors)
    issued_for = fingerprint([workspace_id, WEBHOOK_LIST_SORT])
    request = _page_request(params, cursors, paging, issued_for)

    webhooks = await repository.list_webhooks(
        session, workspace_id, request.limit + 1, request.offset, request.after
    )
    total = None
    if request.include_total:
        total = await repository.count_webhooks(session, workspace_id)
    return _page(webhooks, webhook_to_dict, request, total, cursors, issued_for)


async def list_deliveries(
    session: AsyncSession,
    workspace_id: str,
    webhook_id: str,
    params: Mapping[str, str],
    cursors: CursorCodec,
) -> dict[str, Any]:
    """List a webhook's delivery attempts, newest first."""
    webhook = await require_webhook(session, workspace_id, webhook_id)
    errors: list[str] = []
    paging = parse_paging(params, errors)
    filters = _parse_delivery_filters(params, errors)
    raise_if_errors(errors)
    issued_for = fingerprint([webhook.id, DELIVERY_LIST_SORT, filters])
    request = _page_request(params, cursors, paging, issued_for)

    deliveries = await repository.list_deliveries(
        session, webhook.id, filters, request.limit + 1, request.offset, request.after
    )
    total = None
    if request.include_total:
        total = await repository.count_deliveries(session, webhook.id, filters)
    return _page(deliveries, delivery_to_dict, request, total, cursors, issued_for)


async def redeliver(
    session: AsyncSession, workspace_id: str, webhook_id: str, delivery_id: str
) -> dict[str, Any]:
    """Queue one more attempt of a delivery's event, due now, for the worker."""
    _validate_id("delivery_id", delivery_id)
    # The lock makes concurrent redeliveries to one webhook take turns, so each
    # gets its own attempt number. The worker queues retries without it.
    webhook = await require_webhook(session, workspace_id, webhook_id, True)
    delivery = await repository.get_delivery(session, webhook.id, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} of webhook {webhook_id} not found")
    if not webhook.is_active:
        raise Conflict(
            f"webhook {webhook_id} is inactive; set is_active to true, then redeliver"
        )

    attempt = await repository.last_attempt(session, webhook.id, delivery.event_id)
    now = utc_now()
    queued = WebhookDelivery(
        id=new_id("delivery"),
        webhook_id=webhook.id,
        event_id=delivery.event_id,
        workspace_id=delivery.workspace_id,
        event_type=delivery.event_type,
        call_id=delivery.call_id,
        attempt=attempt + 1,
        state="pending",
        due_at=now,
        created_at=now,
    )
    await repository.add_delivery(session, queued)
    log.info(
        "webhook.redelivery_queued",
        webhook_id=webhook.id,
        delivery_id=queued.id,
        event_id=queued.event_id,
        attempt=queued.attempt,
    )
    return delivery_to_dict(queued)


def _parse_event_types(raw: str) -> tuple[str, ...]:
    try:
        return tuple(canonical_event_types(list(split_values("event_type", raw))))
    except ValueError as error:
        raise ValueError(f"event_type: {error}") from None


def _parse_outcomes(raw: str) -> tuple[str, ...]:
    values = tuple(value.lower() for value in split_values("outcome", raw))
    unknown = [value for value in values if value not in DELIVERY_STATES]
    if unknown:
        raise ValueError(
            f"outcome has unknown value {unknown[0][:40]!r}; "
            f"accepted values: {', '.join(DELIVERY_STATES)}"
        )
    return values


DELIVERY_FILTER_PARSERS: dict[str, tuple[str, Callable[[str], tuple[str, ...]]]] = {
    "event_type": ("event_types", _parse_event_types),
    "call_id": ("call_ids", lambda raw: parse_ids("call_id", raw)),
    "outcome": ("states", _parse_outcomes),
}


def _parse_delivery_filters(
    params: Mapping[str, str], errors: list[str]
) -> DeliveryFilters:
    """Parse the filter parameters, adding a message to errors for each invalid
    one."""
    return DeliveryFilters(**parse_values(params, DELIVERY_FILTER_PARSERS, errors))


def _page_request(
    params: Mapping[str, str],
    cursors: CursorCodec,
    paging: tuple[int, int, bool],
    issued_for: str,
) -> PageRequest:
    page, limit, include_total = paging
    after = None
    if params.get("cursor") is not None:
        try:
            after, page = cursors.decode(params["cursor"], issued_for)
        except PaginationError as error:
            raise InvalidRequest(str(error)) from None
    return PageRequest(page, limit, include_total, after)


def _page(
    rows: Sequence[Any],
    serialize: Callable[[Any], dict[str, Any]],
    request: PageRequest,
    total: int | None,
    cursors: CursorCodec,
    issued_for: str,
) -> dict[str, Any]:
    """Build a list response from up to limit + 1 rows in created_at desc order."""
    page_rows = rows[: request.limit]
    next_cursor = None
    if len(rows) > request.limit:
        last = page_rows[-1]
        position = Position(last.created_at, last.id)
        next_cursor = cursors.encode(position, request.page + 1, issued_for)
    return {
        "data": [serialize(row) for row in page_rows],
        "meta": page_meta(request, total, next_cursor),
    }
