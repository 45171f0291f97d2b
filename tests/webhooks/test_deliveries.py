"""The delivery log of a webhook, and queueing a delivery again."""

from datetime import timedelta

from sqlalchemy import select

from ringline.core.time import utc_now
from ringline.webhooks.models import WebhookDelivery
from tests.factories import Api, Workspace
from tests.webhooks.helpers import (
    add_delivery,
    add_event,
    create_webhook,
    patch_webhook,
)

DELIVERY_FIELDS = {
    "id",
    "event_id",
    "event_type",
    "call_id",
    "attempt",
    "state",
    "response_status",
    "error",
    "duration_ms",
    "created_at",
    "attempted_at",
}
CALL_A = "call_0000000000000000000a"
CALL_B = "call_0000000000000000000b"


def ids_of(response_json: dict) -> list[str]:
    return [delivery["id"] for delivery in response_json["data"]]


async def deliveries_path(api: Api, workspace: Workspace) -> tuple[str, str]:
    webhook_id = (await create_webhook(api, workspace))["id"]
    return webhook_id, f"/v1/user-webhooks/{webhook_id}/deliveries"


async def test_list_deliveries_newest_first(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace, CALL_A)
    first = await add_delivery(api, webhook_id, event_id, minute=0, attempt=1)
    second = await add_delivery(api, webhook_id, event_id, minute=5, attempt=2)
    third = await add_delivery(
        api, webhook_id, event_id, minute=9, attempt=3, state="succeeded"
    )

    response = await api.get(path, workspace)

    body = response.json()
    assert response.status_code == 200
    assert ids_of(body) == [third, second, first]
    assert body["meta"]["total"] == 3
    newest = body["data"][0]
    assert set(newest) == DELIVERY_FIELDS
    assert newest["event_id"] == event_id
    assert newest["event_type"] == "call_ended"
    assert newest["call_id"] == CALL_A
    assert newest["attempt"] == 3
    assert newest["state"] == "succeeded"
    assert newest["response_status"] == 200
    assert newest["error"] is None
    assert newest["duration_ms"] == 12
    assert newest["created_at"] == "2026-11-10T10:09:00.000Z"
    assert newest["attempted_at"] == "2026-11-10T10:09:00.000Z"
    assert body["data"][1]["error"] == "HTTP 500"


async def test_deliveries_tied_times_order_by_id(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace)
    delivery_ids = [
        await add_delivery(api, webhook_id, event_id, minute=1) for _ in range(4)
    ]

    first = await api.get(f"{path}?limit=2", workspace)
    cursor = first.json()["meta"]["next_cursor"]
    second = await api.get(path, workspace, params={"limit": 2, "cursor": cursor})

    listed = ids_of(first.json()) + ids_of(second.json())
    assert listed == sorted(delivery_ids, reverse=True)
    assert second.json()["meta"]["next_cursor"] is None


async def test_deliveries_filter_by_event_type(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    started = await add_event(api, workspace, CALL_A, "call_initiated", sequence=1)
    ended = await add_event(api, workspace, CALL_A, "call_ended", sequence=2)
    started_delivery = await add_delivery(api, webhook_id, started, minute=0)
    ended_delivery = await add_delivery(api, webhook_id, ended, minute=1)

    by_alias = await api.get(f"{path}?event_type=call.completed", workspace)
    by_name = await api.get(f"{path}?event_type=call_initiated", workspace)
    both = await api.get(f"{path}?event_type=call.started,call_ended", workspace)

    assert ids_of(by_alias.json()) == [ended_delivery]
    assert ids_of(by_name.json()) == [started_delivery]
    assert ids_of(both.json()) == [ended_delivery, started_delivery]
    assert by_alias.json()["meta"]["total"] == 1


async def test_deliveries_filter_by_call_and_outcome(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    event_a = await add_event(api, workspace, CALL_A)
    event_b = await add_event(api, workspace, CALL_B)
    failed_a = await add_delivery(api, webhook_id, event_a, minute=0)
    pending_a = await add_delivery(
        api, webhook_id, event_a, minute=1, attempt=2, state="pending"
    )
    succeeded_b = await add_delivery(
        api, webhook_id, event_b, minute=2, state="succeeded"
    )

    call_a = await api.get(f"{path}?call_id={CALL_A}", workspace)
    pending = await api.get(f"{path}?outcome=pending", workspace)
    settled = await api.get(f"{path}?outcome=failed,SUCCEEDED", workspace)
    combined = await api.get(f"{path}?call_id={CALL_B}&outcome=failed", workspace)

    assert ids_of(call_a.json()) == [pending_a, failed_a]
    assert ids_of(pending.json()) == [pending_a]
    assert pending.json()["data"][0]["attempted_at"] is None
    assert pending.json()["data"][0]["response_status"] is None
    assert ids_of(settled.json()) == [succeeded_b, failed_a]
    assert combined.json()["data"] == []
    assert combined.json()["meta"]["total"] == 0


async def test_invalid_delivery_filters_are_400(api: Api) -> None:
    workspace = await api.workspace(agents=())
    _, path = await deliveries_path(api, workspace)

    response = await api.get(
        f"{path}?event_type=call.exploded&outcome=done&limit=500", workspace
    )

    message = response.json()["message"]
    assert response.status_code == 400
    assert message[0] == "limit must be an integer from 1 to 100 (got 500)"
    assert message[1].startswith("event_type: unknown event type 'call.exploded'")
    assert message[2] == (
        "outcome has unknown value 'done'; accepted values: pending, succeeded, failed"
    )


async def test_delivery_cursor_bound_to_filters(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace)
    for minute in range(3):
        await add_delivery(api, webhook_id, event_id, minute=minute)
    first = await api.get(f"{path}?limit=1&outcome=failed", workspace)
    cursor = first.json()["meta"]["next_cursor"]

    other_filter = await api.get(
        path, workspace, params={"limit": 1, "cursor": cursor, "outcome": "pending"}
    )

    assert other_filter.status_code == 400
    assert "cursor was issued for other filters" in other_filter.json()["message"]


async def test_deliveries_of_other_webhook_hidden(api: Api) -> None:
    workspace = await api.workspace(agents=())
    _, path = await deliveries_path(api, workspace)
    other_id, _ = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace)
    await add_delivery(api, other_id, event_id)

    response = await api.get(path, workspace)
    unknown = await api.get("/v1/user-webhooks/wh_unknown/deliveries", workspace)

    assert response.json()["data"] == []
    assert unknown.status_code == 404


async def test_redeliver_queues_next_attempt(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace, CALL_A)
    first = await add_delivery(api, webhook_id, event_id, minute=0, attempt=1)
    await add_delivery(api, webhook_id, event_id, minute=1, attempt=2)
    before = utc_now()

    response = await api.post(f"{path}/{first}/redeliver", workspace)
    listed = await api.get(path, workspace)

    queued = response.json()
    assert response.status_code == 202
    assert set(queued) == DELIVERY_FIELDS
    assert queued["id"].startswith("delivery_")
    assert queued["id"] != first
    assert queued["event_id"] == event_id
    assert queued["event_type"] == "call_ended"
    assert queued["call_id"] == CALL_A
    assert queued["attempt"] == 3
    assert queued["state"] == "pending"
    assert queued["response_status"] is None
    assert queued["attempted_at"] is None
    assert ids_of(listed.json())[0] == queued["id"]
    async with api.sessionmaker() as session:
        row = await session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == queued["id"])
        )
    assert row is not None
    assert row.webhook_id == webhook_id
    assert row.workspace_id == workspace.id
    assert row.locked_by is None
    assert before <= row.due_at <= utc_now() + timedelta(seconds=1)
    assert row.created_at == row.due_at


async def test_redeliver_twice_counts_up(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace)
    first = await add_delivery(api, webhook_id, event_id)

    once = await api.post(f"{path}/{first}/redeliver", workspace)
    twice = await api.post(f"{path}/{once.json()['id']}/redeliver", workspace)

    assert once.json()["attempt"] == 2
    assert twice.json()["attempt"] == 3


async def test_redeliver_unknown_delivery_is_404(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    other_id, _ = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace)
    others = await add_delivery(api, other_id, event_id)

    unknown = await api.post(f"{path}/delivery_unknown/redeliver", workspace)
    foreign = await api.post(f"{path}/{others}/redeliver", workspace)
    malformed = await api.post(f"{path}/dlv$1/redeliver", workspace)

    assert unknown.status_code == 404
    assert unknown.json()["message"] == (
        f"delivery delivery_unknown of webhook {webhook_id} not found"
    )
    assert foreign.status_code == 404
    assert malformed.status_code == 400
    assert malformed.json()["message"].startswith("delivery_id must be")


async def test_redeliver_inactive_webhook_is_409(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace)
    delivery_id = await add_delivery(api, webhook_id, event_id)
    await patch_webhook(api, workspace, webhook_id, {"is_active": False})

    response = await api.post(f"{path}/{delivery_id}/redeliver", workspace)
    listed = await api.get(path, workspace)

    assert response.status_code == 409
    assert "is inactive" in response.json()["message"]
    assert listed.json()["meta"]["total"] == 1


async def test_redeliver_needs_write_permission(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, path = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace)
    delivery_id = await add_delivery(api, webhook_id, event_id)
    read_only = await api.key(workspace, permissions=["webhooks:read"])
    headers = {"Authorization": f"Bearer {read_only}"}

    response = await api.client.post(f"{path}/{delivery_id}/redeliver", headers=headers)
    listed = await api.get(path, headers=headers)

    assert response.status_code == 403
    assert listed.status_code == 200
    assert listed.json()["meta"]["total"] == 1


async def test_deleting_webhook_drops_its_deliveries(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook_id, _ = await deliveries_path(api, workspace)
    event_id = await add_event(api, workspace)
    await add_delivery(api, webhook_id, event_id)

    deleted = await api.client.delete(
        f"/v1/user-webhooks/{webhook_id}", headers=workspace.headers()
    )

    async with api.sessionmaker() as session:
        remaining = list(
            await session.scalars(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.webhook_id == webhook_id
                )
            )
        )
    assert deleted.status_code == 204
    assert remaining == []
