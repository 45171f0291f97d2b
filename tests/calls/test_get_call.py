"""Get Call, and timestamps that read the same everywhere."""

import re

from tests.factories import Api

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


async def test_get_call_returns_call_with_transcript(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(
        workspace,
        [
            {
                "transcript": "Agent: Hello\nUser: Hi",
                "duration_ms": 61_499,
                "metadata": {"name": "Ann", "vip": True},
            }
        ],
    )

    response = await api.get(f"/v1/calls/{call_id}", workspace)

    call = response.json()
    assert response.status_code == 200
    assert call["id"] == call_id
    assert call["transcript"] == "Agent: Hello\nUser: Hi"
    assert call["duration_ms"] == 61_499
    assert call["duration_seconds"] == 61
    assert call["metadata"] == {"name": "Ann", "vip": True}
    assert call["agent_id"] == workspace.agents["A"]
    assert call["agent_version_number"] == 1


async def test_list_item_omits_transcript(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{"transcript": "Agent: Hello"}])

    response = await api.get("/v1/calls", workspace)

    assert "transcript" not in response.json()["data"][0]


async def test_unknown_and_foreign_calls_are_404(api: Api) -> None:
    mine = await api.workspace("Mine")
    theirs = await api.workspace("Theirs")
    (their_call,) = await api.seed(theirs, [{}])

    foreign = await api.get(f"/v1/calls/{their_call}", mine)
    unknown = await api.get("/v1/calls/call_doesnotexist000000", mine)

    assert foreign.status_code == 404
    assert unknown.status_code == 404
    assert foreign.json() == unknown.json() | {"message": foreign.json()["message"]}
    assert foreign.json()["error"] == "Not Found"


async def test_malformed_call_id_is_400(api: Api) -> None:
    workspace = await api.workspace()

    too_long = await api.get("/v1/calls/call_" + "a" * 60, workspace)
    bad_characters = await api.get("/v1/calls/call%20x%3B", workspace)
    nul = await api.get("/v1/calls/call%00", workspace)

    assert too_long.status_code == 400
    assert "at most 64 characters" in too_long.json()["message"]
    assert bad_characters.status_code == 400
    assert nul.status_code == 400


async def test_timestamps_are_utc_millis_and_stable(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(
        workspace,
        [
            {
                "created_at": "2026-11-20T10:30:00.5+05:30",
                "initiated_at": "2026-11-20T05:00:01Z",
                "answered_at": "2026-11-20T05:00:05.123456Z",
                "ended_at": "2026-11-20T00:01:00-05:00",
            }
        ],
    )

    listed = (await api.get("/v1/calls", workspace)).json()["data"][0]
    fetched = (await api.get(f"/v1/calls/{call_id}", workspace)).json()
    again = (await api.get(f"/v1/calls/{call_id}", workspace)).json()

    assert fetched["created_at"] == "2026-11-20T05:00:00.500Z"
    assert fetched["initiated_at"] == "2026-11-20T05:00:01.000Z"
    assert fetched["answered_at"] == "2026-11-20T05:00:05.123Z"
    assert fetched["ended_at"] == "2026-11-20T05:01:00.000Z"
    assert fetched["scheduled_at"] is None
    for name in ("created_at", "updated_at", "initiated_at", "answered_at", "ended_at"):
        assert TIMESTAMP.fullmatch(fetched[name]), name
        assert listed[name] == fetched[name] == again[name], name
