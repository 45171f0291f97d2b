"""Authentication, permissions and rate limits on the calls API."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ringline.core.database import transaction
from ringline.keys.cache import mark_revoked
from ringline.keys.models import ApiKey
from ringline.keys.service import revoke_key
from tests.factories import Api, open_api

UNAUTHORIZED = {
    "statusCode": 401,
    "message": "API key is missing or invalid",
    "error": "Unauthorized",
}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer    ",
        "Basic Zm9vOmJhcg==",
        "Bearer nocolon",
        "Bearer :",
        "Bearer " + "x" * 5000,
        "Token abcdefghijklmn:abcdefghijklmnopqrstuvwxyz0123456789",
    ],
)
async def test_malformed_authorization_is_401(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}

    response = await api.client.get("/v1/calls", headers=headers)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


async def test_changed_revoked_and_expired_keys_are_401(api: Api) -> None:
    workspace = await api.workspace()
    changed = workspace.key[:-1] + ("A" if workspace.key[-1] != "A" else "B")
    revoked = await api.key(workspace, revoked=True)
    expired = await api.key(
        workspace, expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    unknown_id = "zzzzzzzzzzzzzz" + workspace.key[14:]

    for key in (changed, revoked, expired, unknown_id):
        response = await api.get(
            "/v1/calls", workspace, headers={"Authorization": f"Bearer {key}"}
        )

        assert response.status_code == 401, key
        assert response.json() == UNAUTHORIZED


async def test_key_with_future_expiry_works(api: Api) -> None:
    workspace = await api.workspace()
    key = await api.key(workspace, expires_at=datetime.now(UTC) + timedelta(hours=1))

    response = await api.get(
        "/v1/calls", workspace, headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 200


async def test_missing_permission_is_403_naming_it(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [{}])
    no_read = await api.key(workspace, permissions=["calls:write", "agents:read"])
    headers = {"Authorization": f"Bearer {no_read}"}

    listed = await api.get("/v1/calls", headers=headers)
    fetched = await api.get(f"/v1/calls/{call_id}", headers=headers)

    for response in (listed, fetched):
        assert response.status_code == 403
        assert response.json() == {
            "statusCode": 403,
            "message": "This API key lacks the calls:read permission",
            "error": "Forbidden",
        }


async def test_rate_limit_headers_and_429(database_url: str, tmp_path: Path) -> None:
    async with open_api(database_url, tmp_path, rate_limit=3) as api:
        workspace = await api.workspace()
        other = await api.key(workspace)

        responses = [await api.get("/v1/calls", workspace) for _ in range(4)]
        other_key = await api.get(
            "/v1/calls", headers={"Authorization": f"Bearer {other}"}
        )

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == [
        "2",
        "1",
        "0",
        "0",
    ]
    assert responses[0].headers["x-ratelimit-limit"] == "3"
    assert 1 <= int(responses[0].headers["x-ratelimit-reset"]) <= 60
    assert int(responses[3].headers["retry-after"]) >= 1
    assert responses[3].json()["statusCode"] == 429
    assert "rate limit" in responses[3].json()["message"]
    assert other_key.status_code == 200


async def test_key_use_is_recorded(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.get("/v1/calls", workspace)
    for _ in range(100):
        async with api.sessionmaker() as session:
            used = await session.scalar(select(ApiKey.last_used_at))
        if used is not None:
            break
        await asyncio.sleep(0.02)

    assert response.status_code == 200
    assert used is not None


async def test_revocation_reaches_cached_key(api: Api, database_url: str) -> None:
    workspace = await api.workspace()
    key = await api.key(workspace)
    headers = {"Authorization": f"Bearer {key}"}
    before = await api.get("/v1/calls", headers=headers)

    async with transaction(api.sessionmaker) as session:
        await revoke_key(session, key.split(":")[0])
    mark_revoked(database_url)
    statuses = []
    for _ in range(20):
        statuses.append((await api.get("/v1/calls", headers=headers)).status_code)
        if statuses[-1] == 401:
            break
        # PostgreSQL delivers the notification a moment after the commit.
        await asyncio.sleep(0.01)

    assert before.status_code == 200
    assert statuses[-1] == 401
    assert len(statuses) <= 5


async def test_expiry_applies_to_cached_key(api: Api) -> None:
    workspace = await api.workspace()
    soon = datetime.now(UTC) + timedelta(milliseconds=400)
    key = await api.key(workspace, expires_at=soon)
    headers = {"Authorization": f"Bearer {key}"}

    before = await api.get("/v1/calls", headers=headers)
    await asyncio.sleep(0.5)
    after = await api.get("/v1/calls", headers=headers)

    assert before.status_code == 200
    assert after.status_code == 401
