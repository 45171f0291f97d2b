"""Create Call: destination spellings, validation, agent versions, scheduling,
countries and idempotency; and Cancel Call."""

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import func, select

from ringline.calls.models import Call, CallEvent, IdempotencyKey
from ringline.core.database import transaction
from ringline.jobs.models import Job
from tests.factories import Api, Workspace


async def count_rows(api: Api, model: type) -> int:
    async with transaction(api.sessionmaker) as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


def create_body(workspace: Workspace, **fields: object) -> dict:
    return {"agent_id": workspace.agents["A"], "phone_number": "+15550100123", **fields}


async def test_create_call_stores_and_queues(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.post(
        "/v1/calls",
        workspace,
        create_body(
            workspace, phone_number="+1 (555) 010-0123", metadata={"name": "Ann"}
        ),
    )
    fetched = await api.get(f"/v1/calls/{response.json()['id']}", workspace)

    call = response.json()
    assert response.status_code == 201
    assert call["status"] == "created"
    assert call["to_phone_number"] == "+15550100123"
    assert call["from_phone_number"] == "+15550100100"
    assert call["agent_version_number"] == 1
    assert call["metadata"] == {"name": "Ann"}
    assert call["end_reason"] is None
    assert call["duration_seconds"] is None
    assert fetched.json()["created_at"] == call["created_at"]
    assert await count_rows(api, Job) == 1
    assert await count_rows(api, CallEvent) == 1


@pytest.mark.parametrize("field", ["phone_number", "to_phone_number", "to_number"])
async def test_destination_spellings_accepted(api: Api, field: str) -> None:
    workspace = await api.workspace()
    body = {"agent_id": workspace.agents["A"], field: "+442079460958"}

    response = await api.post("/v1/calls", workspace, body)

    assert response.status_code == 201
    assert response.json()["to_phone_number"] == "+442079460958"


async def test_caller_defaults_to_agent_then_workspace(api: Api) -> None:
    workspace = await api.workspace()
    agent = await api.post(
        "/v1/agents", workspace, {"title": "t", "from_phone_number": "+15550100999"}
    )
    agent_id = agent.json()["id"]
    await api.client.patch(
        f"/v1/agents/{agent_id}",
        json={"version_number": 1, "is_published": True},
        headers=workspace.headers(),
    )

    by_agent = await api.post(
        "/v1/calls", workspace, {"agent_id": agent_id, "phone_number": "+15550100123"}
    )
    by_workspace = await api.post("/v1/calls", workspace, create_body(workspace))
    explicit = await api.post(
        "/v1/calls", workspace, create_body(workspace, from_number="+15550100555")
    )

    assert by_agent.json()["from_phone_number"] == "+15550100999"
    assert by_workspace.json()["from_phone_number"] == "+15550100100"
    assert explicit.json()["from_phone_number"] == "+15550100555"


INVALID = {
    "no destination": ({"phone_number": None}, "phone_number is required"),
    "two destinations": (
        {"to_number": "+15550100999"},
        "phone_number and to_number name the same destination but differ",
    ),
    "no plus": ({"phone_number": "5550100123"}, "must start with + and the country"),
    "impossible": ({"phone_number": "+1555"}, "is not a possible number"),
    "letters": ({"phone_number": "+1-800-FLOWERS"}, "with no letters or extension"),
    "two callers": (
        {"from_phone_number": "+15550100111", "from_number": "+15550100222"},
        "differ",
    ),
    "bad caller": ({"from_phone_number": "12"}, "from_phone_number must start with +"),
    "negative version": ({"agent_version_number": -1}, "agent_version_number"),
    "text version": ({"agent_version_number": "1"}, "agent_version_number"),
    "draft version": (
        {"agent_version_number": 2},
        "is a draft; use a published version (published: 1)",
    ),
    "metadata not object": ({"metadata": [1]}, "metadata"),
    "metadata nested": (
        {"metadata": {"a": {"b": 1}}},
        "metadata.a must be a string, number, boolean or null (got an object)",
    ),
    "metadata array": ({"metadata": {"a": [1]}}, "(got an array)"),
    "number extension": (
        {"phone_number": "+15550100150 ext. 5"},
        "only the digits 0-9 after the +, with no letters or extension",
    ),
    "metadata keys": ({"metadata": {f"k{i}": i for i in range(51)}}, "at most 50 keys"),
    "metadata size": ({"metadata": {"a": "x" * 17000}}, "at most 16384 bytes"),
    "past schedule": (
        {"scheduled_at": "2020-01-01T00:00:00Z"},
        "must be in the future",
    ),
    "far schedule": (
        {"scheduled_at": (datetime.now(UTC) + timedelta(days=31)).isoformat()},
        "at most 30 days ahead",
    ),
    "bad schedule": ({"scheduled_at": "soon"}, "scheduled_at"),
    "agent missing": ({"agent_id": None}, "agent_id"),
    "agent id shape": (
        {"agent_id": "agent x"},
        "agent_id must be at most 64 characters",
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
async def test_invalid_create_is_400_and_creates_nothing(api: Api, case: str) -> None:
    workspace = await api.workspace()
    fields, expected = INVALID[case]
    body = {k: v for k, v in create_body(workspace, **fields).items() if v is not None}

    response = await api.post("/v1/calls", workspace, body)

    message = response.json()["message"]
    assert response.status_code == 400
    assert expected in (message if isinstance(message, str) else " ".join(message))
    assert await count_rows(api, Call) == 0
    assert await count_rows(api, Job) == 0


async def test_nested_metadata_gets_one_message(api: Api) -> None:
    workspace = await api.workspace()
    body = create_body(workspace, metadata={"a": {"b": 1}})

    response = await api.post("/v1/calls", workspace, body)

    assert response.status_code == 400
    assert isinstance(response.json()["message"], str)


async def test_undecodable_body_is_400(api: Api) -> None:
    workspace = await api.workspace()
    headers = {**workspace.headers(), "content-type": "application/json"}

    response = await api.client.post(
        "/v1/calls", content=b'{"agent_id": "\xff\xfe"}', headers=headers
    )
    deep = await api.client.post(
        "/v1/calls", content=b"[" * 5000 + b"]" * 5000, headers=headers
    )

    assert response.status_code == 400
    assert "body must be valid JSON in UTF-8" in response.json()["message"]
    assert deep.status_code == 400
    assert "nested less than 900 levels deep" in deep.json()["message"]
    assert await count_rows(api, Call) == 0


@pytest.mark.parametrize(
    ("content_type", "received"),
    [
        ("text/plain", "Content-Type 'text/plain'"),
        ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"),
        (None, "got none"),
    ],
)
async def test_json_without_json_content_type_is_400(
    api: Api, content_type: str | None, received: str
) -> None:
    workspace = await api.workspace()
    headers = workspace.headers()
    if content_type is not None:
        headers["content-type"] = content_type
    body = orjson.dumps(create_body(workspace))

    response = await api.client.post("/v1/calls", content=body, headers=headers)

    assert response.status_code == 400
    message = response.json()["message"]
    assert "body must be JSON sent with Content-Type: application/json" in message
    assert received in message
    assert await count_rows(api, Call) == 0


async def test_unknown_version_and_agent_are_404(api: Api) -> None:
    workspace = await api.workspace()
    other = await api.workspace("Other")

    missing_version = await api.post(
        "/v1/calls", workspace, create_body(workspace, agent_version_number=9)
    )
    foreign_agent = await api.post(
        "/v1/calls", workspace, create_body(workspace, agent_id=other.agents["A"])
    )

    assert missing_version.status_code == 404
    assert "(published: 1)" in missing_version.json()["message"]
    assert foreign_agent.status_code == 404
    assert await count_rows(api, Call) == 0


async def test_unpublished_agent_is_400(api: Api) -> None:
    workspace = await api.workspace(agents=())
    draft_only = (await api.post("/v1/agents", workspace, {"title": "t"})).json()["id"]

    response = await api.post(
        "/v1/calls", workspace, {"agent_id": draft_only, "phone_number": "+15550100123"}
    )

    assert response.status_code == 400
    assert "has no published version" in response.json()["message"]


async def test_country_not_enabled_is_403(api: Api) -> None:
    workspace = await api.workspace(countries=["US"])

    foreign = await api.post(
        "/v1/calls", workspace, create_body(workspace, phone_number="+442079460958")
    )
    domestic = await api.post("/v1/calls", workspace, create_body(workspace))

    assert foreign.status_code == 403
    assert foreign.json()["message"] == (
        "calls to GB are not enabled for this workspace (enabled: US)"
    )
    assert domestic.status_code == 201
    assert await count_rows(api, Call) == 1


async def test_scheduled_call_waits_until_due(api: Api) -> None:
    workspace = await api.workspace()
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)

    response = await api.post(
        "/v1/calls", workspace, create_body(workspace, scheduled_at=when.isoformat())
    )
    async with transaction(api.sessionmaker) as session:
        job = await session.scalar(select(Job))

    assert response.status_code == 201
    assert response.json()["scheduled_at"] == when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert job is not None
    assert job.due_at == when


async def test_idempotent_create_replays_and_conflicts(api: Api) -> None:
    workspace = await api.workspace()
    key = {"Idempotency-Key": "k-001"}

    first = await api.post("/v1/calls", workspace, create_body(workspace), headers=key)
    again = await api.post("/v1/calls", workspace, create_body(workspace), headers=key)
    changed = await api.post(
        "/v1/calls",
        workspace,
        create_body(workspace, phone_number="+15550100124"),
        headers=key,
    )
    new_key = await api.post(
        "/v1/calls",
        workspace,
        create_body(workspace),
        headers={"Idempotency-Key": "k-002"},
    )

    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert changed.status_code == 409
    assert "different request body" in changed.json()["message"]
    assert new_key.status_code == 201
    assert new_key.json()["id"] != first.json()["id"]
    assert await count_rows(api, Call) == 2
    assert await count_rows(api, Job) == 2


async def test_concurrent_repeats_create_one_call(api: Api) -> None:
    workspace = await api.workspace()
    key = {"Idempotency-Key": "k-race"}

    responses = await asyncio.gather(
        *(
            api.post("/v1/calls", workspace, create_body(workspace), headers=key)
            for _ in range(6)
        )
    )

    assert [response.status_code for response in responses] == [201] * 6
    assert len({response.json()["id"] for response in responses}) == 1
    fresh = [r for r in responses if "idempotent-replayed" not in r.headers]
    assert len(fresh) == 1
    assert await count_rows(api, Call) == 1
    assert await count_rows(api, Job) == 1


async def test_expired_idempotency_key_is_reusable(api: Api) -> None:
    workspace = await api.workspace()
    key = {"Idempotency-Key": "k-old"}
    first = await api.post("/v1/calls", workspace, create_body(workspace), headers=key)
    async with transaction(api.sessionmaker) as session:
        stored = await session.get(IdempotencyKey, (workspace.id, "k-old"))
        assert stored is not None
        stored.created_at = datetime.now(UTC) - timedelta(hours=25)

    other_body = create_body(workspace, phone_number="+15550100124")
    second = await api.post("/v1/calls", workspace, other_body, headers=key)
    repeat = await api.post("/v1/calls", workspace, other_body, headers=key)

    assert second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert repeat.headers["idempotent-replayed"] == "true"
    assert repeat.json()["id"] == second.json()["id"]
    assert await count_rows(api, Call) == 2


async def test_rejected_create_leaves_key_unused(api: Api) -> None:
    workspace = await api.workspace()
    key = {"Idempotency-Key": "k-retry"}
    bad_body = create_body(workspace, phone_number="not a number")

    rejected = await api.post("/v1/calls", workspace, bad_body, headers=key)
    fixed = await api.post("/v1/calls", workspace, create_body(workspace), headers=key)

    assert rejected.status_code == 400
    assert fixed.status_code == 201
    assert "idempotent-replayed" not in fixed.headers


async def test_non_ascii_key_counts_characters(api: Api) -> None:
    workspace = await api.workspace()
    # Sent as UTF-8 bytes, two bytes per character.
    key = {"Idempotency-Key": ("é" * 200).encode()}
    too_long = {"Idempotency-Key": ("é" * 256).encode()}

    first = await api.post("/v1/calls", workspace, create_body(workspace), headers=key)
    again = await api.post("/v1/calls", workspace, create_body(workspace), headers=key)
    rejected = await api.post(
        "/v1/calls", workspace, create_body(workspace), headers=too_long
    )

    assert first.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert rejected.status_code == 400
    assert "(got 256 characters)" in rejected.json()["message"]


async def test_idempotency_keys_are_per_workspace(api: Api) -> None:
    mine = await api.workspace("Mine")
    theirs = await api.workspace("Theirs")
    key = {"Idempotency-Key": "shared"}

    first = await api.post("/v1/calls", mine, create_body(mine), headers=key)
    second = await api.post("/v1/calls", theirs, create_body(theirs), headers=key)

    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in second.headers


async def test_overlong_idempotency_key_is_400(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.post(
        "/v1/calls",
        workspace,
        create_body(workspace),
        headers={"Idempotency-Key": "k" * 256},
    )

    assert response.status_code == 400
    assert "Idempotency-Key must be 1 to 255" in response.json()["message"]
    assert await count_rows(api, Call) == 0


async def test_cancel_before_dialing_and_twice(api: Api) -> None:
    workspace = await api.workspace()
    call_id = (await api.post("/v1/calls", workspace, create_body(workspace))).json()[
        "id"
    ]

    cancelled = await api.post(f"/v1/calls/{call_id}/cancel", workspace)
    again = await api.post(f"/v1/calls/{call_id}/cancel", workspace)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["end_reason"] is None
    assert cancelled.json()["ended_at"] is not None
    assert cancelled.json()["duration_seconds"] == 0
    assert again.status_code == 409
    assert "already ended with status cancelled" in again.json()["message"]


async def test_cancel_live_call_hangs_up(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(
        workspace,
        [
            {
                "status": "received",
                "answered_at": "2026-11-10T10:00:05Z",
                "created_at": "2026-11-10T10:00:00Z",
            }
        ],
    )

    response = await api.post(f"/v1/calls/{call_id}/cancel", workspace)

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert response.json()["end_reason"] == "agent_disconnected"
    assert response.json()["duration_ms"] > 0


async def test_cancel_foreign_or_unknown_is_404(api: Api) -> None:
    mine = await api.workspace("Mine")
    theirs = await api.workspace("Theirs")
    their_call = (await api.post("/v1/calls", theirs, create_body(theirs))).json()["id"]

    foreign = await api.post(f"/v1/calls/{their_call}/cancel", mine)
    unknown = await api.post("/v1/calls/call_nope000000000000000/cancel", mine)

    assert foreign.status_code == 404
    assert unknown.status_code == 404


async def test_write_permission_needed(api: Api) -> None:
    workspace = await api.workspace()
    read_only = await api.key(workspace, permissions=["calls:read"])

    response = await api.post(
        "/v1/calls",
        workspace,
        create_body(workspace),
        headers={"Authorization": f"Bearer {read_only}"},
    )

    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the calls:write permission"
    assert await count_rows(api, Call) == 0


async def test_nul_character_is_400(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.post(
        "/v1/calls", workspace, create_body(workspace, metadata={"name": "A\u0000"})
    )

    assert response.status_code == 400
    assert "NUL character" in response.json()["message"]
    assert await count_rows(api, Call) == 0


UNSTORABLE = {
    "huge whole number": (
        '{"n": 123456789012345678901234567890}',
        "metadata.n: whole numbers must be from -2^63 to 2^63-1",
    ),
    "NaN": ('{"n": NaN}', "metadata.n: numbers must be finite"),
    "overflowing number": ('{"n": 1e400}', "metadata.n: numbers must be finite"),
    "lone surrogate": ('{"n": "\\ud800"}', "metadata.n: text must be valid Unicode"),
    "lone surrogate key": ('{"\\udc00": 1}', "metadata: text must be valid Unicode"),
}


@pytest.mark.parametrize("case", list(UNSTORABLE))
async def test_unstorable_metadata_is_400(api: Api, case: str) -> None:
    workspace = await api.workspace()
    metadata, expected = UNSTORABLE[case]
    agent_id = workspace.agents["A"]
    body = (
        f'{{"agent_id": "{agent_id}", "phone_number": "+15550100123", '
        f'"metadata": {metadata}}}'
    )

    response = await api.client.post(
        "/v1/calls",
        content=body.encode(),
        headers={**workspace.headers(), "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith(expected)
    assert await count_rows(api, Call) == 0


async def test_concurrent_creates_stored_once(api: Api) -> None:
    workspace = await api.workspace()
    bodies = [
        create_body(workspace, phone_number=f"+155501{n:05d}", metadata={"n": n})
        for n in range(40)
    ]

    responses = await asyncio.gather(
        *(api.post("/v1/calls", workspace, body) for body in bodies)
    )

    assert [response.status_code for response in responses] == [201] * 40
    ids = {response.json()["id"] for response in responses}
    async with transaction(api.sessionmaker) as session:
        stored = set(await session.scalars(select(Call.id)))
        queued = list(await session.scalars(select(Job.call_id)))
        created_events = list(await session.scalars(select(CallEvent.call_id)))
    assert stored == ids
    assert sorted(queued) == sorted(ids)
    assert sorted(created_events) == sorted(ids)
    for response in responses[:3]:
        fetched = await api.get(f"/v1/calls/{response.json()['id']}", workspace)
        assert fetched.json()["metadata"] == response.json()["metadata"]
