"""List Calls filters: each alone, combined with AND, values OR'ed, and bounds."""

from tests.factories import Api


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [call["id"] for call in response.json()["data"]]


async def test_date_only_bounds_cover_whole_days(api: Api) -> None:
    workspace = await api.workspace()
    c1, c2, c3, c4 = await api.seed(
        workspace,
        [
            {"created_at": "2026-11-01T00:00:00Z"},
            {"created_at": "2026-11-15T12:00:00Z"},
            {"created_at": "2026-11-30T23:59:59.999Z"},
            {"created_at": "2026-12-01T00:00:00.001Z"},
        ],
    )

    response = await api.get("/v1/calls?from=2026-11-01&to=2026-11-30", workspace)

    assert ids(response) == [c3, c2, c1]
    assert response.json()["meta"]["total"] == 3


async def test_offsets_are_instants(api: Api) -> None:
    workspace = await api.workspace()
    z1, z2, z3, z4 = await api.seed(
        workspace,
        [
            {"created_at": "2026-11-20T04:30:00Z"},
            {"created_at": "2026-11-20T05:30:00Z"},
            {"created_at": "2026-11-21T04:59:59Z"},
            {"created_at": "2026-11-21T05:00:00Z"},
        ],
    )

    new_york_day = await api.get(
        "/v1/calls?from=2026-11-20T00:00:00-05:00&to=2026-11-20T23:59:59-05:00",
        workspace,
    )
    encoded_plus = await api.get(
        "/v1/calls?from=2026-11-20T10:30:00%2B05:30", workspace
    )
    raw_plus = await api.get("/v1/calls?from=2026-11-20T10:30:00+05:30", workspace)
    zoned_dates = await api.get(
        "/v1/calls?from=2026-11-20&to=2026-11-20&timezone=America/New_York", workspace
    )

    assert ids(new_york_day) == [z3, z2]
    assert ids(encoded_plus) == [z4, z3, z2]
    assert ids(raw_plus) == [z4, z3, z2]
    assert ids(zoned_dates) == [z3, z2]
    assert z1 not in ids(zoned_dates)


async def test_timezone_dates_follow_daylight_saving(api: Api) -> None:
    workspace = await api.workspace()
    # 2026-03-08 is 23 hours long in New York: it starts at 05:00Z, ends at 04:00Z.
    before, first, last, after = await api.seed(
        workspace,
        [
            {"created_at": "2026-03-08T04:59:59.999Z"},
            {"created_at": "2026-03-08T05:00:00Z"},
            {"created_at": "2026-03-09T03:59:59.999Z"},
            {"created_at": "2026-03-09T04:00:00Z"},
        ],
    )

    response = await api.get(
        "/v1/calls?from=2026-03-08&to=2026-03-08&timezone=America/New_York", workspace
    )

    assert ids(response) == [last, first]


async def test_timestamp_bounds_inclusive_to_millisecond(api: Api) -> None:
    workspace = await api.workspace()
    early, middle, late = await api.seed(
        workspace,
        [
            {"created_at": "2026-11-10T10:00:00.122Z"},
            {"created_at": "2026-11-10T10:00:00.123Z"},
            {"created_at": "2026-11-10T10:00:00.124Z"},
        ],
    )

    exact = await api.get(
        "/v1/calls?from=2026-11-10T10:00:00.123Z&to=2026-11-10T10:00:00.123Z",
        workspace,
    )
    from_only = await api.get("/v1/calls?from=2026-11-10T10:00:00.123Z", workspace)
    to_only = await api.get("/v1/calls?to=2026-11-10T10:00:00.123Z", workspace)
    naive_is_utc = await api.get("/v1/calls?to=2026-11-10T10:00:00.122", workspace)

    assert ids(exact) == [middle]
    assert ids(from_only) == [late, middle]
    assert ids(to_only) == [middle, early]
    assert ids(naive_is_utc) == [early]


async def test_agent_and_status_combine_with_and(api: Api) -> None:
    workspace = await api.workspace(agents=("A", "B", "C"))
    a1, a2, a3, a4, b1, x1 = await api.seed(
        workspace,
        [
            {"agent": "A", "status": "completed", "created_at": "2026-11-05T10:00Z"},
            {"agent": "A", "status": "failed", "created_at": "2026-11-06T10:00Z"},
            {"agent": "A", "status": "busy", "created_at": "2026-11-07T10:00Z"},
            {"agent": "A", "status": "failed", "created_at": "2026-10-20T10:00Z"},
            {"agent": "B", "status": "failed", "created_at": "2026-11-06T11:00Z"},
            {"agent": "C", "status": "failed", "created_at": "2026-11-06T12:00Z"},
        ],
    )
    agent_a, agent_b = workspace.agents["A"], workspace.agents["B"]

    failed_of_a = await api.get(
        f"/v1/calls?agent_id={agent_a}&status=failed", workspace
    )
    combined = await api.get(
        f"/v1/calls?agent_id={agent_a},{agent_b}&status=failed,busy"
        "&from=2026-11-01T00:00:00Z",
        workspace,
    )

    assert ids(failed_of_a) == [a2, a4]
    assert ids(combined) == [a3, b1, a2]
    for call in combined.json()["data"]:
        assert call["agent_id"] in (agent_a, agent_b)
        assert call["status"] in ("failed", "busy")
        assert call["created_at"] >= "2026-11-01T00:00:00.000Z"
    assert a1 not in ids(combined)
    assert x1 not in ids(combined)


async def test_each_value_filter_alone(api: Api) -> None:
    workspace = await api.workspace(agents=("A", "B"))
    plain, other = await api.seed(
        workspace,
        [
            {"agent": "A", "status": "completed"},
            {
                "agent": "B",
                "status": "busy",
                "batch_call_id": "batch_0123456789abcdef",
                "call_direction": "inbound",
                "type": "web",
                "from_phone_number": "+442079460958",
                "to_phone_number": "+15550100777",
            },
        ],
    )
    cases = {
        f"agent_id={workspace.agents['B']}": [other],
        "status=busy": [other],
        f"call_id={other}": [other],
        f"call_id={plain},{other}": [other, plain],
        "batch_call_id=batch_0123456789abcdef": [other],
        "call_direction=inbound": [other],
        "call_direction=outbound": [plain],
        "type=web": [other],
        "type=phone": [plain],
        "end_reason=user_busy": [other],
        "end_reason=user_busy,agent_disconnected": [other, plain],
        "from_number=%2B442079460958": [other],
        "to_number=%2B15550100777": [other],
        "to_number=+15550100777": [other],
        "to_number=%2B1 555-010-0123": [plain],
    }

    for query, expected in cases.items():
        response = await api.get(f"/v1/calls?{query}", workspace)

        assert sorted(ids(response)) == sorted(expected), query
        assert response.json()["meta"]["total"] == len(expected), query


async def test_status_aliases_expand(api: Api) -> None:
    workspace = await api.workspace()
    statuses = [
        "created",
        "initiated",
        "sent",
        "received",
        "completed",
        "did_not_pick",
        "no_answer",
        "busy",
        "failed",
        "cancelled",
        "retry_expired",
    ]
    seeded = await api.seed(
        workspace,
        [
            {"status": status, "created_at": f"2026-11-{day:02d}T10:00:00Z"}
            for day, status in enumerate(statuses, start=1)
        ],
    )
    by_status = dict(zip(statuses, seeded, strict=True))
    aliases = {
        "in-progress": ["received"],
        "in_progress": ["received"],
        "ongoing": ["received"],
        "no-answer": ["no_answer", "did_not_pick"],
        "queued": ["created"],
        "canceled": ["cancelled"],
        "active": ["created", "initiated", "sent", "received"],
        "ended": statuses[4:],
        "COMPLETED": ["completed"],
        "Busy,queued": ["busy", "created"],
    }

    for alias, expected in aliases.items():
        response = await api.get(f"/v1/calls?status={alias}", workspace)

        assert sorted(ids(response)) == sorted(by_status[s] for s in expected), alias


async def test_unknown_agent_matches_nothing(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{}, {}])

    response = await api.get("/v1/calls?agent_id=agent_unknown0000000000", workspace)

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["total"] == 0
    assert response.json()["meta"]["totalPages"] == 0


async def test_other_workspace_calls_never_listed(api: Api) -> None:
    mine = await api.workspace("Mine")
    theirs = await api.workspace("Theirs")
    my_ids = await api.seed(mine, [{}, {}])
    their_ids = await api.seed(theirs, [{}, {}, {}])

    unfiltered = await api.get("/v1/calls", mine)
    by_their_id = await api.get(f"/v1/calls?call_id={','.join(their_ids)}", mine)
    by_their_agent = await api.get(f"/v1/calls?agent_id={theirs.agents['A']}", mine)

    assert sorted(ids(unfiltered)) == sorted(my_ids)
    assert ids(by_their_id) == []
    assert ids(by_their_agent) == []


async def test_repeated_parameter_means_or(api: Api) -> None:
    workspace = await api.workspace()
    done, busy, _failed = await api.seed(
        workspace, [{"status": "completed"}, {"status": "busy"}, {"status": "failed"}]
    )

    response = await api.get("/v1/calls?status=completed&status=busy", workspace)

    assert sorted(ids(response)) == sorted([done, busy])


async def test_lowercase_t_and_z_accepted(api: Api) -> None:
    workspace = await api.workspace()
    (call,) = await api.seed(workspace, [{"created_at": "2026-11-10T10:00:00Z"}])

    response = await api.get("/v1/calls?from=2026-11-10t10:00:00z", workspace)

    assert ids(response) == [call]


async def test_sub_millisecond_from_starts_at_next_millisecond(api: Api) -> None:
    workspace = await api.workspace()
    _early, late = await api.seed(
        workspace,
        [
            {"created_at": "2026-11-10T10:00:00.123Z"},
            {"created_at": "2026-11-10T10:00:00.124Z"},
        ],
    )

    response = await api.get("/v1/calls?from=2026-11-10T10:00:00.1234Z", workspace)

    assert ids(response) == [late]


async def test_repeated_query_sees_each_workspace_and_new_calls(api: Api) -> None:
    first = await api.workspace("First")
    second = await api.workspace("Second")
    query = "/v1/calls?status=busy&limit=5"
    (first_call,) = await api.seed(first, [{"status": "busy"}])
    (second_call,) = await api.seed(second, [{"status": "busy"}])

    before = await api.get(query, first)
    other = await api.get(query, second)
    (later_call,) = await api.seed(first, [{"status": "busy"}])
    after = await api.get(query, first)

    assert ids(before) == [first_call]
    assert ids(other) == [second_call]
    assert sorted(ids(after)) == sorted([first_call, later_call])
