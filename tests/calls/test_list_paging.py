"""List Calls paging: totals, ties, pages past the end, cursors and ETags."""

from datetime import UTC, datetime, timedelta

from tests.factories import Api


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [call["id"] for call in response.json()["data"]]


async def test_totals_follow_filters(api: Api) -> None:
    workspace = await api.workspace(agents=("A", "B"))
    other = await api.workspace("Other")
    matching = [{"agent": "A", "status": "completed"} for _ in range(12)]
    rest = [{"agent": "B", "status": "completed"} for _ in range(20)]
    rest += [{"agent": "A", "status": "failed"} for _ in range(13)]
    await api.seed(workspace, matching + rest)
    await api.seed(other, [{} for _ in range(50)])
    agent_a = workspace.agents["A"]

    first = await api.get(
        f"/v1/calls?agent_id={agent_a}&status=completed&limit=5", workspace
    )
    third = await api.get(
        f"/v1/calls?agent_id={agent_a}&status=completed&limit=5&page=3", workspace
    )
    unfiltered = await api.get("/v1/calls", workspace)

    meta = first.json()["meta"]
    assert (meta["page"], meta["limit"], meta["total"]) == (1, 5, 12)
    assert meta["totalPages"] == 3
    assert len(ids(third)) == 2
    assert unfiltered.json()["meta"]["total"] == 45
    assert unfiltered.json()["meta"]["totalPages"] == 3


async def test_ties_broken_by_id_across_pages(api: Api) -> None:
    workspace = await api.workspace()
    same_instant = "2026-11-10T10:00:00.000Z"
    seeded = await api.seed(workspace, [{"created_at": same_instant}] * 7)

    pages = [
        ids(await api.get(f"/v1/calls?limit=3&page={page}", workspace))
        for page in (1, 2, 3)
    ]

    assert [call for page in pages for call in page] == sorted(seeded, reverse=True)
    assert [len(page) for page in pages] == [3, 3, 1]


async def test_page_past_end_is_empty(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{}, {}, {}])

    response = await api.get("/v1/calls?limit=2&page=9", workspace)

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"] == {
        "page": 9,
        "limit": 2,
        "total": 3,
        "totalPages": 2,
        "next_cursor": None,
    }


async def test_include_total_false_skips_count(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{}, {}, {}])

    response = await api.get("/v1/calls?limit=2&include_total=false", workspace)

    assert len(ids(response)) == 2
    assert response.json()["meta"]["total"] is None
    assert response.json()["meta"]["totalPages"] is None
    assert response.json()["meta"]["next_cursor"] is not None


async def test_cursor_never_repeats_or_skips_while_calls_arrive(api: Api) -> None:
    workspace = await api.workspace(agents=("A", "B"))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    # Pairs share an instant so that ties are crossed at page boundaries.
    seeded = await api.seed(
        workspace,
        [
            {"created_at": start + timedelta(minutes=i // 2), "agent": "AB"[i % 2]}
            for i in range(23)
        ],
    )

    seen: list[str] = []
    response = await api.get("/v1/calls?limit=4&status=completed,busy", workspace)
    pages = 0
    while True:
        seen += ids(response)
        pages += 1
        await api.seed(
            workspace,
            [{"created_at": datetime.now(UTC)}, {"created_at": start}],
        )
        cursor = response.json()["meta"]["next_cursor"]
        if cursor is None:
            break
        response = await api.get(
            "/v1/calls",
            workspace,
            params={"limit": 4, "cursor": cursor, "status": "completed,busy"},
        )
        assert response.json()["meta"]["page"] == pages + 1

    original = set(seeded)
    assert [call for call in seen if call in original] == sorted(
        seeded, key=lambda call_id: (seeded.index(call_id) // 2, call_id), reverse=True
    )
    assert len(seen) == len(set(seen))


async def test_cursor_reaches_same_depth_as_pages(api: Api) -> None:
    workspace = await api.workspace(agents=("A", "B"))
    await api.seed(workspace, [{"agent": "AB"[i % 3 == 0]} for i in range(17)])
    agents = f"{workspace.agents['A']},{workspace.agents['B']}"

    by_page = [
        ids(await api.get(f"/v1/calls?limit=5&page={p}&agent_id={agents}", workspace))
        for p in (1, 2, 3, 4)
    ]
    by_cursor = []
    response = await api.get(f"/v1/calls?limit=5&agent_id={agents}", workspace)
    while True:
        by_cursor.append(ids(response))
        cursor = response.json()["meta"]["next_cursor"]
        if cursor is None:
            break
        response = await api.get(
            "/v1/calls",
            workspace,
            params={"limit": 5, "cursor": cursor, "agent_id": agents},
        )

    assert by_cursor == by_page


async def test_cursor_rejected_with_other_filters(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{}, {}, {}])
    first = await api.get("/v1/calls?limit=1&status=completed", workspace)
    cursor = first.json()["meta"]["next_cursor"]

    other_filters = await api.get(
        "/v1/calls", workspace, params={"limit": 1, "cursor": cursor, "status": "busy"}
    )
    with_page = await api.get(
        "/v1/calls",
        workspace,
        params={"cursor": cursor, "status": "completed", "page": 2},
    )
    tampered = await api.get(
        "/v1/calls",
        workspace,
        params={"cursor": cursor[:-2] + "xx", "status": "completed"},
    )
    garbage = await api.get("/v1/calls?cursor=%%%", workspace)

    assert other_filters.status_code == 400
    assert "cursor" in other_filters.json()["message"]
    assert with_page.status_code == 400
    assert "cursor and page" in with_page.json()["message"]
    assert tampered.status_code == 400
    assert garbage.status_code == 400


async def test_etag_answers_not_modified(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{}])
    first = await api.get("/v1/calls", workspace)
    etag = first.headers["etag"]

    same = await api.get("/v1/calls", workspace, headers={"If-None-Match": etag})
    weak = await api.get("/v1/calls", workspace, headers={"If-None-Match": f"W/{etag}"})
    await api.seed(workspace, [{}])
    changed = await api.get("/v1/calls", workspace, headers={"If-None-Match": etag})

    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    assert weak.status_code == 304
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_cursor_works_only_in_its_workspace(api: Api) -> None:
    mine = await api.workspace("Mine")
    theirs = await api.workspace("Theirs")
    await api.seed(mine, [{}, {}, {}])
    cursor = (await api.get("/v1/calls?limit=1", mine)).json()["meta"]["next_cursor"]

    response = await api.get("/v1/calls", theirs, params={"limit": 1, "cursor": cursor})

    assert response.status_code == 400
    assert "cursor was issued for" in response.json()["message"]


async def test_trailing_slash_is_not_redirected(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.get("/v1/calls/", workspace, headers={"Host": "evil.example"})

    assert response.status_code in (400, 404)
    assert "location" not in response.headers
