from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.pagination import Position
from ringline.webhooks.models import Webhook, WebhookDelivery


@dataclass(frozen=True, slots=True)
class DeliveryFilters:
    """Filters of a delivery list. None means not filtered, and a tuple matches
    any of its values."""

    event_types: tuple[str, ...] | None = None
    call_ids: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None


def _after(model: type[Webhook] | type[WebhookDelivery], position: Position) -> Any:
    """Rows after position in created_at desc, id desc order."""
    return and_(
        model.created_at <= position.created_at,
        or_(model.created_at < position.created_at, model.id < position.id),
    )


async def add_webhook(session: AsyncSession, webhook: Webhook) -> None:
    session.add(webhook)
    await session.flush()


async def get_webhook(
    session: AsyncSession,
    workspace_id: str,
    webhook_id: str,
    for_update: bool = False,
) -> Webhook | None:
    query = select(Webhook).where(
        Webhook.id == webhook_id, Webhook.workspace_id == workspace_id
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def list_webhooks(
    session: AsyncSession,
    workspace_id: str,
    limit: int,
    offset: int,
    after: Position | None,
) -> list[Webhook]:
    conditions = [Webhook.workspace_id == workspace_id]
    if after is not None:
        conditions.append(_after(Webhook, after))
    query = (
        select(Webhook)
        .where(*conditions)
        .order_by(Webhook.created_at.desc(), Webhook.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(await session.scalars(query))


async def count_webhooks(session: AsyncSession, workspace_id: str) -> int:
    query = (
        select(func.count())
        .select_from(Webhook)
        .where(Webhook.workspace_id == workspace_id)
    )
    return await session.scalar(query) or 0


async def delete_webhook(session: AsyncSession, webhook: Webhook) -> None:
    """Delete a webhook. The database deletes its delivery rows through ON DELETE
    CASCADE."""
    await session.delete(webhook)
    await session.flush()


def _delivery_conditions(webhook_id: str, filters: DeliveryFilters) -> list[Any]:
    conditions = [WebhookDelivery.webhook_id == webhook_id]
    if filters.event_types is not None:
        conditions.append(WebhookDelivery.event_type.in_(filters.event_types))
    if filters.call_ids is not None:
        conditions.append(WebhookDelivery.call_id.in_(filters.call_ids))
    if filters.states is not None:
        conditions.append(WebhookDelivery.state.in_(filters.states))
    return conditions


async def list_deliveries(
    session: AsyncSession,
    webhook_id: str,
    filters: DeliveryFilters,
    limit: int,
    offset: int,
    after: Position | None,
) -> list[WebhookDelivery]:
    conditions = _delivery_conditions(webhook_id, filters)
    if after is not None:
        conditions.append(_after(WebhookDelivery, after))
    query = (
        select(WebhookDelivery)
        .where(*conditions)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(await session.scalars(query))


async def count_deliveries(
    session: AsyncSession, webhook_id: str, filters: DeliveryFilters
) -> int:
    query = (
        select(func.count())
        .select_from(WebhookDelivery)
        .where(*_delivery_conditions(webhook_id, filters))
    )
    return await session.scalar(query) or 0


async def get_delivery(
    session: AsyncSession, webhook_id: str, delivery_id: str
) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook_id
    )
    return await session.scalar(query)


async def last_attempt(session: AsyncSession, webhook_id: str, event_id: str) -> int:
    """Return the highest attempt number of an event to a webhook, 0 if none."""
    query = select(func.max(WebhookDelivery.attempt)).where(
        WebhookDelivery.webhook_id == webhook_id,
        WebhookDelivery.event_id == event_id,
    )
    return await session.scalar(query) or 0


async def add_delivery(session: AsyncSession, delivery: WebhookDelivery) -> None:
    session.add(delivery)
    await session.flush()
