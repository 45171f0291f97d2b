"""List Call Logs: the analysis fields, filters, sorts, search and paging."""

from typing import Any

from ringline.calls.models import Call
from ringline.core.database import transaction
from tests.factories import Api, Workspace

ANSWERED = {
    "answered_at": "2026-11-10T10:00:05Z",
    "ended_at": "2026-11-10T10:01:05Z",
}


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [log["id"] for log in response.json()["data"]]


def answered(seconds: float, **fields: Any) -> dict[str, Any]:
    """A completed call that talked for the given seconds."""
    return {**ANSWERED, "duration_ms": round(seconds * 1000), **fields}


async def test_log_has_analysis_fields(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(
        workspace,
        [
            answered(
                60,
                sentiment="positive",
                summary="The callee confirmed the visit.",
                analysis={"confirmed": True},
                transcript="Agent: Hello\nUser: Yes, I will come.",
            )
        ],
    )

    response = await api.get("/v1/call-logs", workspace)

    (log,) = response.json()["data"]
    assert log["id"] == call_id
    assert log["call_id"] == call_id
    assert log["sentiment"] == "positive"
    assert log["summary"] == "The callee confirmed the visit."
    assert log["analysis"] == {"confirmed": True}
    assert log["analysis_status"] == "completed"
    assert log["duration_seconds"] == 60
    assert "transcript" not in log


async def test_pending_differs_from_not_applicable(api: Api) -> None:
    workspace = await api.workspace()
    pending, never = await api.seed(
        workspace,
        [
            answered(30, created_at="2026-11-10T10:00:00Z"),
            {"status": "busy", "created_at": "2026-11-10T09:00:00Z"},
        ],
    )

    logs = {
        log["id"]: log
        for log in (await api.get("/v1/call-logs", workspace)).json()["data"]
    }

    assert logs[pending]["analysis_status"] == "pending"
    assert logs[pending]["sentiment"] is None
    assert logs[pending]["summary"] is None
    assert logs[never]["analysis_status"] == "not_applicable"
    assert logs[never]["sentiment"] is None


async def test_completed_without_answer_time_is_pending(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [{"status": "completed"}])

    log = (await api.get(f"/v1/call-logs/{call_id}", workspace)).json()

    assert log["status"] == "completed"
    assert log["analysis_status"] == "pending"
    assert log["sentiment"] is None


async def test_sentiment_filter_takes_a_list(api: Api) -> None:
    workspace = await api.workspace()
    good, bad, flat = await api.seed(
        workspace,
        [
            answered(10, sentiment="positive", created_at="2026-11-10T10:00:03Z"),
            answered(10, sentiment="negative", created_at="2026-11-10T10:00:02Z"),
            answered(10, sentiment="neutral", created_at="2026-11-10T10:00:01Z"),
        ],
    )

    both = await api.get("/v1/call-logs?sentiment=positive,negative", workspace)
    neutral = await api.get("/v1/call-logs?sentiment=neutral", workspace)

    assert ids(both) == [good, bad]
    assert ids(neutral) == [flat]


async def test_duration_bounds_are_inclusive_seconds(api: Api) -> None:
    workspace = await api.workspace()
    short, edge_low, middle, edge_high, long = await api.seed(
        workspace,
        [
            answered(29.4, created_at="2026-11-10T10:00:05Z"),
            answered(29.5, created_at="2026-11-10T10:00:04Z"),
            answered(45, created_at="2026-11-10T10:00:03Z"),
            answered(60.4, created_at="2026-11-10T10:00:02Z"),
            answered(60.5, created_at="2026-11-10T10:00:01Z"),
        ],
    )

    response = await api.get("/v1/call-logs?duration_min=30&duration_max=60", workspace)

    assert ids(response) == [edge_low, middle, edge_high]


async def test_dates_cover_whole_days_in_zone(api: Api) -> None:
    workspace = await api.workspace()
    before, inside, after = await api.seed(
        workspace,
        [
            {"status": "busy", "created_at": "2026-11-10T04:59:59Z"},
            {"status": "busy", "created_at": "2026-11-10T05:00:00Z"},
            {"status": "busy", "created_at": "2026-11-11T05:00:00Z"},
        ],
    )

    response = await api.get(
        "/v1/call-logs?start_date=2026-11-10&end_date=2026-11-10"
        "&timezone=America/New_York",
        workspace,
    )

    assert ids(response) == [inside]


async def test_duration_sort_puts_missing_last(api: Api) -> None:
    workspace = await api.workspace()
    none, short, long, queued = await api.seed(
        workspace,
        [
            {"status": "busy", "duration_ms": 0, "created_at": "2026-11-10T10:00:04Z"},
            answered(5, created_at="2026-11-10T10:00:03Z"),
            answered(50, created_at="2026-11-10T10:00:02Z"),
            {"status": "created", "created_at": "2026-11-10T10:00:01Z"},
        ],
    )

    descending = await api.get("/v1/call-logs?duration=desc", workspace)
    ascending = await api.get("/v1/call-logs?duration=asc", workspace)

    # The busy call lasted 0 s; the queued one has no duration yet.
    assert ids(descending) == [long, short, none, queued]
    assert ids(ascending) == [none, short, long, queued]


async def test_created_at_sort_ascending(api: Api) -> None:
    workspace = await api.workspace()
    first, second = await api.seed(
        workspace,
        [
            {"status": "busy", "created_at": "2026-11-10T10:00:00Z"},
            {"status": "busy", "created_at": "2026-11-10T11:00:00Z"},
        ],
    )

    response = await api.get("/v1/call-logs?created_at=asc", workspace)

    assert ids(response) == [first, second]


async def walk(api: Api, workspace: Workspace, query: str) -> list[str]:
    seen: list[str] = []
    response = await api.get(f"/v1/call-logs?{query}", workspace)
    while True:
        seen += ids(response)
        cursor = response.json()["meta"]["next_cursor"]
        if cursor is None:
            return seen
        response = await api.get(f"/v1/call-logs?{query}&cursor={cursor}", workspace)


async def test_cursor_walks_duration_order(api: Api) -> None:
    workspace = await api.workspace()
    calls = [
        answered(seconds, created_at=f"2026-11-10T09:{minute:02d}:00Z")
        for minute, seconds in enumerate([10, 20, 10, 30, 20, 10, 40])
    ]
    calls.append({"status": "created", "created_at": "2026-11-10T09:59:00Z"})
    seeded = await api.seed(workspace, calls)

    for direction in ("desc", "asc"):
        whole = ids(await api.get(f"/v1/call-logs?duration={direction}", workspace))
        walked = await walk(api, workspace, f"duration={direction}&limit=2")

        assert walked == whole
        assert sorted(walked) == sorted(seeded)


async def test_cursor_bound_to_its_sort(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [answered(10), answered(20), answered(30)])
    first = await api.get("/v1/call-logs?duration=desc&limit=1", workspace)
    cursor = first.json()["meta"]["next_cursor"]

    response = await api.get(f"/v1/call-logs?duration=asc&cursor={cursor}", workspace)

    assert response.status_code == 400
    assert "cursor" in response.json()["message"]


async def test_search_needs_every_word(api: Api) -> None:
    workspace = await api.workspace()
    both, one, summary_only = await api.seed(
        workspace,
        [
            answered(
                10,
                transcript="Agent: Is Tuesday fine?\nUser: Tuesday works, thanks.",
                created_at="2026-11-10T10:00:03Z",
            ),
            answered(
                10,
                transcript="Agent: Is Tuesday fine?\nUser: No.",
                created_at="2026-11-10T10:00:02Z",
            ),
            answered(
                10,
                transcript="Agent: Is Tuesday fine?",
                summary="The callee said thanks.",
                created_at="2026-11-10T10:00:01Z",
            ),
        ],
    )

    response = await api.get("/v1/call-logs?q=tuesday%20THANKS", workspace)

    assert ids(response) == [both, summary_only]
    assert response.json()["meta"]["total"] == 2


async def test_search_reads_quotes_as_words(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(
        workspace, [answered(10, transcript='User: say "hello" OR NOT')]
    )

    response = await api.get('/v1/call-logs?q="hello" OR', workspace)
    nothing = await api.get("/v1/call-logs?q=NEAR(hello", workspace)

    assert ids(response) == [call_id]
    assert ids(nothing) == []


async def test_search_follows_transcript_changes(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [answered(10, transcript="User: apples")])
    async with transaction(api.sessionmaker) as session:
        call = await session.get(Call, call_id)
        call.transcript = "User: pears"

    old = await api.get("/v1/call-logs?q=apples", workspace)
    new = await api.get("/v1/call-logs?q=pears", workspace)

    assert ids(old) == []
    assert ids(new) == [call_id]


async def test_other_workspace_logs_hidden(api: Api) -> None:
    mine = await api.workspace("Mine")
    theirs = await api.workspace("Theirs")
    (their_call,) = await api.seed(theirs, [answered(10, transcript="User: secret")])

    listed = await api.get("/v1/call-logs?q=secret", mine)
    fetched = await api.get(f"/v1/call-logs/{their_call}", mine)

    assert ids(listed) == []
    assert fetched.status_code == 404


async def test_malformed_parameters_named(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.get(
        "/v1/call-logs?sentiment=happy&duration_min=-1&created_at=up&q=!!!",
        workspace,
    )

    assert response.status_code == 400
    message = " ".join(response.json()["message"])
    assert "sentiment" in message
    assert "duration_min" in message
    assert "created_at must be asc or desc" in message
    assert "q must contain" in message


async def test_two_sorts_rejected(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.get("/v1/call-logs?created_at=asc&duration=asc", workspace)

    assert response.status_code == 400
    assert "not both" in response.json()["message"]


async def test_same_call_reads_same_everywhere(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(
        workspace,
        [
            answered(
                42.5,
                sentiment="neutral",
                summary="Asked to call back.",
                transcript="Agent: Hi\nUser: Call me later.",
                metadata={"customer": "Zoë"},
            )
        ],
    )

    listed = (await api.get("/v1/calls", workspace)).json()["data"][0]
    got = (await api.get(f"/v1/calls/{call_id}", workspace)).json()
    logged = (await api.get("/v1/call-logs", workspace)).json()["data"][0]
    log = (await api.get(f"/v1/call-logs/{call_id}", workspace)).json()
    details = (await api.get(f"/v1/call-logs/{call_id}/details", workspace)).json()

    assert set(listed) == set(got) - {"transcript"}
    for name, value in listed.items():
        assert got[name] == value, name
        assert logged[name] == value, name
        assert log[name] == value, name
        assert details[name] == value, name
    assert logged == log
    assert details["transcript"] == got["transcript"]
    assert got["transcript"] == "Agent: Hi\nUser: Call me later."


async def test_call_log_etag_gives_304(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [answered(10)])
    first = await api.get(f"/v1/call-logs/{call_id}/details", workspace)

    again = await api.get(
        f"/v1/call-logs/{call_id}/details",
        workspace,
        headers={"If-None-Match": first.headers["etag"]},
    )

    assert again.status_code == 304


async def test_key_without_read_is_403(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [answered(10)])
    key = await api.key(workspace, permissions=["calls:write"])

    responses = [
        await api.get(path, headers={"Authorization": f"Bearer {key}"})
        for path in (
            "/v1/call-logs",
            f"/v1/call-logs/{call_id}",
            f"/v1/call-logs/{call_id}/details",
        )
    ]

    assert [response.status_code for response in responses] == [403, 403, 403]
