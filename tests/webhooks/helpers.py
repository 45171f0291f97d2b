"""Webhook requests and delivery rows written straight to the database."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ringline.core.database import transaction
from ringline.core.ids import new_id
from ringline.webhooks.models import WebhookDelivery, WebhookEvent
from tests.factories import Api, Workspace

# A public address literal, so saving it needs no DNS lookup. Tests never send
# anything to it.
PUBLIC_URL = "https://93.184.215.14/hooks/ringline"
START = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)


async def create_webhook(
    api: Api, workspace: Workspace, **fields: Any
) -> dict[str, Any]:
    body = {"url": PUBLIC_URL, "events": ["call_ended"], **fields}
    response = await api.post("/v1/user-webhooks", workspace, body)
    assert response.status_code == 201, response.text
    return response.json()


async def patch_webhook(
    api: Api, workspace: Workspace, webhook_id: str, body: Any
) -> httpx.Response:
    return await api.client.patch(
        f"/v1/user-webhooks/{webhook_id}", json=body, headers=workspace.headers()
    )


async def delete_webhook(
    api: Api, workspace: Workspace, webhook_id: str
) -> httpx.Response:
    return await api.client.delete(
        f"/v1/user-webhooks/{webhook_id}", headers=workspace.headers()
    )


async def add_event(
    api: Api,
    workspace: Workspace,
    call_id: str = "call_00000000000000000001",
    event_type: str = "call_ended",
    sequence: int = 1,
) -> str:
    event_id = new_id("evt")
    async with transaction(api.sessionmaker) as session:
        session.add(
            WebhookEvent(
                id=event_id,
                workspace_id=workspace.id,
                call_id=call_id,
                event_type=event_type,
                sequence=sequence,
                body=b"{}",
                created_at=START,
            )
        )
    return event_id


async def add_delivery(
    api: Api,
    webhook_id: str,
    event_id: str,
    minute: int = 0,
    attempt: int = 1,
    state: str = "failed",
    **fields: Any,
) -> str:
    """Write one delivery row of an event, created `minute` minutes after START."""
    async with transaction(api.sessionmaker) as session:
        event = await session.get(WebhookEvent, event_id)
        assert event is not None
        created_at = START + timedelta(minutes=minute)
        delivery = WebhookDelivery(
            id=new_id("delivery"),
            webhook_id=webhook_id,
            event_id=event_id,
            workspace_id=event.workspace_id,
            event_type=event.event_type,
            call_id=event.call_id,
            attempt=attempt,
            state=state,
            due_at=created_at,
            created_at=created_at,
            attempted_at=None if state == "pending" else created_at,
            response_status={"failed": 500, "succeeded": 200}.get(state),
            error="HTTP 500" if state == "failed" else None,
            duration_ms=None if state == "pending" else 12,
        )
        for name, value in fields.items():
            setattr(delivery, name, value)
        session.add(delivery)
    return delivery.id
