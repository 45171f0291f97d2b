"""The webhooks API: create, list, get, change and delete subscriptions."""

import base64
from typing import Any

import pytest

from tests.factories import Api, Workspace
from tests.webhooks.helpers import (
    PUBLIC_URL,
    create_webhook,
    delete_webhook,
    patch_webhook,
)

MASKED = "********"


def message_text(body: dict[str, Any]) -> str:
    message = body["message"]
    return message if isinstance(message, str) else " | ".join(message)


async def count_webhooks(api: Api, workspace: Workspace) -> int:
    listed = await api.get("/v1/user-webhooks", workspace)
    return listed.json()["meta"]["total"]


async def test_create_webhook_shows_secret_once(api: Api) -> None:
    workspace = await api.workspace(agents=())

    created = await create_webhook(api, workspace, secret="my-secret-value")
    fetched = await api.get(f"/v1/user-webhooks/{created['id']}", workspace)
    listed = await api.get("/v1/user-webhooks", workspace)

    assert created["secret"] == "my-secret-value"
    assert fetched.json()["secret"] == MASKED
    assert listed.json()["data"][0]["secret"] == MASKED
    assert "my-secret-value" not in fetched.text
    assert "my-secret-value" not in listed.text


async def test_create_webhook_generates_secret(api: Api) -> None:
    workspace = await api.workspace(agents=())

    response = await api.post(
        "/v1/user-webhooks", workspace, {"url": PUBLIC_URL, "events": ["call_ended"]}
    )

    webhook = response.json()
    assert response.status_code == 201
    assert webhook["id"].startswith("webhook_")
    assert webhook["url"] == PUBLIC_URL
    assert webhook["secret"].startswith("whsec_")
    assert len(base64.b64decode(webhook["secret"].removeprefix("whsec_"))) == 24
    assert webhook["is_active"] is True
    assert webhook["retry_count"] == 5
    assert webhook["timeout_ms"] == 10_000
    assert webhook["created_at"].endswith("Z")
    assert webhook["updated_at"] == webhook["created_at"]


async def test_generated_secrets_differ(api: Api) -> None:
    workspace = await api.workspace(agents=())

    first = await create_webhook(api, workspace)
    second = await create_webhook(api, workspace)

    assert first["secret"] != second["secret"]


async def test_event_aliases_map_to_canonical(api: Api) -> None:
    workspace = await api.workspace(agents=())
    events = ["call.completed", "call_analyzed", "call.failed", "Call.Started"]

    created = await create_webhook(api, workspace, events=events + ["call.ended"])
    no_answer = await create_webhook(api, workspace, events=["call.no_answer"])

    assert created["events"] == ["call_initiated", "call_ended", "call_analyzed"]
    assert no_answer["events"] == ["call_ended"]


async def test_create_webhook_keeps_given_fields(api: Api) -> None:
    workspace = await api.workspace(agents=())

    created = await create_webhook(
        api, workspace, is_active=False, retry_count=0, timeout_ms=60_000
    )

    assert created["is_active"] is False
    assert created["retry_count"] == 0
    assert created["timeout_ms"] == 60_000


INVALID_BODIES: dict[str, tuple[Any, str]] = {
    "missing url": ({"events": ["call_ended"]}, "url is required"),
    "url not text": ({"url": 5, "events": ["call_ended"]}, "url"),
    "url too long": (
        {"url": PUBLIC_URL + "x" * 2048, "events": ["call_ended"]},
        "url",
    ),
    "url no host": ({"url": "https:///x", "events": ["call_ended"]}, "url"),
    "url user info": (
        {"url": "https://u:p@93.184.215.14/", "events": ["call_ended"]},
        "url: must not contain a user name or password",
    ),
    "missing events": ({"url": PUBLIC_URL}, "events is required"),
    "empty events": ({"url": PUBLIC_URL, "events": []}, "events"),
    "events not list": ({"url": PUBLIC_URL, "events": "call_ended"}, "events"),
    "event not text": ({"url": PUBLIC_URL, "events": [1]}, "events.0"),
    "unknown event": (
        {"url": PUBLIC_URL, "events": ["call_ended", "call.exploded"]},
        "events: unknown event type 'call.exploded'; accepted: call_initiated, "
        "call_ended, call_analyzed, call.started, call.completed",
    ),
    "short secret": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "secret": "short"},
        "secret: must be 8 to 256 printable ASCII characters",
    ),
    "secret space": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "secret": "has a space"},
        "secret",
    ),
    "secret long": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "secret": "s" * 257},
        "secret",
    ),
    "secret not text": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "secret": 12345678},
        "secret",
    ),
    "is_active text": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "is_active": "yes"},
        "is_active",
    ),
    "retry_count low": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "retry_count": -1},
        "retry_count",
    ),
    "retry_count high": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "retry_count": 11},
        "retry_count",
    ),
    "retry_count text": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "retry_count": "5"},
        "retry_count",
    ),
    "retry_count bool": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "retry_count": True},
        "retry_count",
    ),
    "timeout_ms low": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "timeout_ms": 999},
        "timeout_ms",
    ),
    "timeout_ms high": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "timeout_ms": 60_001},
        "timeout_ms",
    ),
    "timeout_ms float": (
        {"url": PUBLIC_URL, "events": ["call_ended"], "timeout_ms": 1500.5},
        "timeout_ms",
    ),
    "not an object": ([PUBLIC_URL], "body"),
}


@pytest.mark.parametrize("case", list(INVALID_BODIES))
async def test_invalid_webhook_body_is_400(api: Api, case: str) -> None:
    workspace = await api.workspace(agents=())
    body, expected = INVALID_BODIES[case]

    response = await api.post("/v1/user-webhooks", workspace, body)

    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert expected in message_text(response.json())
    assert await count_webhooks(api, workspace) == 0


async def test_every_bad_field_is_named(api: Api) -> None:
    workspace = await api.workspace(agents=())
    body = {"url": "ftp://x", "events": [], "retry_count": 99, "timeout_ms": 1}

    response = await api.post("/v1/user-webhooks", workspace, body)

    message = response.json()["message"]
    assert response.status_code == 400
    assert isinstance(message, list)
    for field in ("url", "events", "retry_count", "timeout_ms"):
        assert any(line.startswith(f"{field}:") for line in message), field


UNSAFE_URLS = {
    "plain http": ("http://93.184.215.14/hook", "must start with https://"),
    "loopback": ("https://127.0.0.1/hook", "loopback address"),
    "private": ("https://10.1.2.3/hook", "private address"),
    "private 192": ("https://192.168.50.1/hook", "private address"),
    "link-local": ("https://169.254.3.4/hook", "link-local address"),
    "metadata": ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
    "ipv6 loopback": ("https://[::1]/hook", "loopback address"),
    "ipv4-mapped": ("https://[::ffff:10.0.0.1]/hook", "private address"),
    "localhost name": ("https://localhost/hook", "resolves to a loopback address"),
    "numeric name": ("https://2130706433/hook", "resolves to a loopback address"),
}


@pytest.mark.parametrize("case", list(UNSAFE_URLS))
async def test_unsafe_url_is_400_by_default(api: Api, case: str) -> None:
    workspace = await api.workspace(agents=())
    url, expected = UNSAFE_URLS[case]

    response = await api.post(
        "/v1/user-webhooks", workspace, {"url": url, "events": ["call_ended"]}
    )

    assert response.status_code == 400
    assert message_text(response.json()).startswith("url: ")
    assert expected in message_text(response.json())
    assert await count_webhooks(api, workspace) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "http://localhost:9000/hook",
    ],
)
async def test_private_url_allowed_with_setting(private_api: Api, url: str) -> None:
    workspace = await private_api.workspace(agents=())

    response = await private_api.post(
        "/v1/user-webhooks", workspace, {"url": url, "events": ["call_ended"]}
    )

    assert response.status_code == 201, response.text
    assert response.json()["url"] == url


async def test_metadata_url_rejected_with_setting(private_api: Api) -> None:
    workspace = await private_api.workspace(agents=())
    body = {"url": "http://169.254.169.254/latest", "events": ["call_ended"]}

    response = await private_api.post("/v1/user-webhooks", workspace, body)

    assert response.status_code == 400
    assert "cloud metadata address" in message_text(response.json())


async def test_unresolvable_host_is_400(private_api: Api) -> None:
    workspace = await private_api.workspace(agents=())
    body = {"url": "https://ringline-test.invalid/hook", "events": ["call_ended"]}

    response = await private_api.post("/v1/user-webhooks", workspace, body)

    assert response.status_code == 400
    assert response.json()["message"] == (
        "url: host ringline-test.invalid could not be resolved; check the name"
    )


async def test_patch_rechecks_url(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook = await create_webhook(api, workspace)
    other_url = "https://93.184.215.15/other"

    loopback = await patch_webhook(
        api, workspace, webhook["id"], {"url": "https://127.0.0.1/"}
    )
    plain = await patch_webhook(api, workspace, webhook["id"], {"url": "http://x.io"})
    changed = await patch_webhook(api, workspace, webhook["id"], {"url": other_url})

    assert loopback.status_code == 400
    assert "loopback address" in message_text(loopback.json())
    assert plain.status_code == 400
    assert "must start with https://" in message_text(plain.json())
    assert changed.status_code == 200
    assert changed.json()["url"] == other_url


async def test_patch_changes_given_fields(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook = await create_webhook(api, workspace, events=["call_ended"])
    body = {"events": ["call.started"], "is_active": False, "retry_count": 0}

    response = await patch_webhook(api, workspace, webhook["id"], body)
    fetched = await api.get(f"/v1/user-webhooks/{webhook['id']}", workspace)

    changed = response.json()
    assert response.status_code == 200
    assert changed["events"] == ["call_initiated"]
    assert changed["is_active"] is False
    assert changed["retry_count"] == 0
    assert changed["timeout_ms"] == 10_000
    assert changed["url"] == PUBLIC_URL
    assert changed["secret"] == MASKED
    assert changed["updated_at"] >= webhook["updated_at"]
    assert fetched.json() == changed


async def test_patch_new_secret_shown_once(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook = await create_webhook(api, workspace)

    rotated = await patch_webhook(
        api, workspace, webhook["id"], {"secret": "rotated-secret-1"}
    )
    fetched = await api.get(f"/v1/user-webhooks/{webhook['id']}", workspace)
    again = await patch_webhook(api, workspace, webhook["id"], {"timeout_ms": 2000})

    assert rotated.status_code == 200
    assert rotated.json()["secret"] == "rotated-secret-1"
    assert fetched.json()["secret"] == MASKED
    assert again.json()["secret"] == MASKED


async def test_patch_rejects_nulls_and_bad_values(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook = await create_webhook(api, workspace)

    nulls = await patch_webhook(
        api, workspace, webhook["id"], {"url": None, "events": None}
    )
    unknown_event = await patch_webhook(
        api, workspace, webhook["id"], {"events": ["call.unknown"]}
    )
    short_secret = await patch_webhook(api, workspace, webhook["id"], {"secret": "abc"})
    fetched = await api.get(f"/v1/user-webhooks/{webhook['id']}", workspace)

    assert nulls.status_code == 400
    assert nulls.json()["message"] == [
        "url must not be null",
        "events must not be null",
    ]
    assert unknown_event.status_code == 400
    assert "unknown event type" in message_text(unknown_event.json())
    assert short_secret.status_code == 400
    assert fetched.json()["updated_at"] == webhook["updated_at"]


async def test_delete_webhook_then_404(api: Api) -> None:
    workspace = await api.workspace(agents=())
    webhook = await create_webhook(api, workspace)

    deleted = await delete_webhook(api, workspace, webhook["id"])
    fetched = await api.get(f"/v1/user-webhooks/{webhook['id']}", workspace)
    again = await delete_webhook(api, workspace, webhook["id"])

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert fetched.status_code == 404
    assert fetched.json()["message"] == f"webhook {webhook['id']} not found"
    assert again.status_code == 404


async def test_other_workspace_webhook_is_404(api: Api) -> None:
    mine = await api.workspace("Mine", agents=())
    theirs = await api.workspace("Theirs", agents=())
    their_id = (await create_webhook(api, theirs))["id"]
    path = f"/v1/user-webhooks/{their_id}"

    fetched = await api.get(path, mine)
    patched = await patch_webhook(api, mine, their_id, {"is_active": False})
    deleted = await delete_webhook(api, mine, their_id)
    deliveries = await api.get(f"{path}/deliveries", mine)
    redelivered = await api.post(f"{path}/deliveries/delivery_x/redeliver", mine)
    listed = await api.get("/v1/user-webhooks", mine)
    still_there = await api.get(path, theirs)

    assert fetched.status_code == 404
    assert patched.status_code == 404
    assert deleted.status_code == 404
    assert deliveries.status_code == 404
    assert redelivered.status_code == 404
    assert listed.json()["data"] == []
    assert still_there.json()["is_active"] is True


async def test_list_webhooks_pages_newest_first(api: Api) -> None:
    workspace = await api.workspace(agents=())
    created = [(await create_webhook(api, workspace))["id"] for _ in range(5)]

    first = await api.get("/v1/user-webhooks?limit=2", workspace)
    cursor = first.json()["meta"]["next_cursor"]
    second = await api.get(
        "/v1/user-webhooks", workspace, params={"limit": 2, "cursor": cursor}
    )
    third = await api.get("/v1/user-webhooks?limit=2&page=3", workspace)
    past_end = await api.get("/v1/user-webhooks?limit=2&page=4", workspace)

    pages = (first, second, third)
    listed = [webhook["id"] for page in pages for webhook in page.json()["data"]]
    assert sorted(listed) == sorted(created)
    assert len(set(listed)) == 5
    assert first.json()["meta"]["total"] == 5
    assert first.json()["meta"]["totalPages"] == 3
    assert second.json()["meta"]["page"] == 2
    assert third.json()["meta"]["next_cursor"] is None
    assert past_end.status_code == 200
    assert past_end.json()["data"] == []
    assert past_end.json()["meta"]["total"] == 5


async def test_list_webhooks_without_total(api: Api) -> None:
    workspace = await api.workspace(agents=())
    await create_webhook(api, workspace)

    response = await api.get("/v1/user-webhooks?include_total=false", workspace)

    meta = response.json()["meta"]
    assert response.status_code == 200
    assert meta["total"] is None
    assert meta["totalPages"] is None
    assert len(response.json()["data"]) == 1


async def test_list_webhooks_bad_paging_is_400(api: Api) -> None:
    workspace = await api.workspace(agents=())

    response = await api.get("/v1/user-webhooks?limit=0&page=abc", workspace)
    mixed = await api.get("/v1/user-webhooks?page=1&cursor=abc", workspace)
    forged = await api.get("/v1/user-webhooks?cursor=abc", workspace)

    assert response.status_code == 400
    assert response.json()["message"] == [
        "page must be an integer from 1 to 2147483647 (got 'abc')",
        "limit must be an integer from 1 to 100 (got 0)",
    ]
    assert mixed.status_code == 400
    assert forged.status_code == 400
    assert "cursor is invalid" in forged.json()["message"]


async def test_malformed_webhook_id_is_400(api: Api) -> None:
    workspace = await api.workspace(agents=())

    response = await api.get("/v1/user-webhooks/wh$1", workspace)

    assert response.status_code == 400
    assert response.json()["message"].startswith("id must be at most 64 characters")


async def test_webhook_permissions(api: Api) -> None:
    workspace = await api.workspace(agents=())
    read_only = await api.key(workspace, permissions=["webhooks:read"])
    calls_only = await api.key(workspace, permissions=["calls:read", "calls:write"])
    body = {"url": PUBLIC_URL, "events": ["call_ended"]}

    created = await api.client.post(
        "/v1/user-webhooks",
        json=body,
        headers={"Authorization": f"Bearer {read_only}"},
    )
    read = await api.get(
        "/v1/user-webhooks", headers={"Authorization": f"Bearer {read_only}"}
    )
    listed = await api.get(
        "/v1/user-webhooks", headers={"Authorization": f"Bearer {calls_only}"}
    )
    anonymous = await api.client.post("/v1/user-webhooks", json=body)

    assert created.status_code == 403
    assert created.json()["message"] == (
        "This API key lacks the webhooks:write permission"
    )
    assert read.status_code == 200
    assert listed.status_code == 403
    assert listed.json()["message"] == "This API key lacks the webhooks:read permission"
    assert anonymous.status_code == 401
    assert await count_webhooks(api, workspace) == 0


async def test_openapi_lists_webhook_routes(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()

    paths = document["paths"]
    create = paths["/v1/user-webhooks"]["post"]
    assert "requestBody" in create
    assert "400" in create["responses"]
    assert "422" not in create["responses"]
    assert "/v1/user-webhooks/{webhook_id}/deliveries" in paths
    redeliver = "/v1/user-webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"
    assert "202" in paths[redeliver]["post"]["responses"]


async def test_whsec_secret_must_be_base64(api: Api) -> None:
    workspace = await api.workspace()
    body = {"url": PUBLIC_URL, "events": ["call_ended"], "secret": "whsec_notbase64!!"}

    response = await api.post("/v1/user-webhooks", workspace, body)

    assert response.status_code == 400
    assert "base64" in message_text(response.json())
    assert await count_webhooks(api, workspace) == 0
