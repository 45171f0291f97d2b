"""The agents API: create, list, get, edit drafts, publish and delete."""

import pytest

from tests.factories import Api, Workspace

FULL_VERSION = {
    "title": "Appointment reminders",
    "welcome_message": "Hi {{name}}, this is {{agent_name}}.",
    "prompt_text": "Remind {{name}} of the appointment.",
    "language_id": "en-GB",
    "voice_id": "alloy",
    "from_phone_number": "+1 (555) 010-0100",
    "max_call_duration_sec": 300,
    "end_call_on_silence_sec": 20,
    "default_dynamic_variables": {"name": "there"},
    "post_call_analysis": [
        {"field_name": "confirmed", "field_type": "boolean", "field_description": "?"},
        {"field_name": "slot", "field_type": "ENUM", "options": ["am", "pm"]},
        {"field_name": "notes", "field_type": "String"},
    ],
}


async def post_agent(api: Api, workspace: Workspace, body: dict):  # type: ignore[no-untyped-def]
    return await api.client.post("/v1/agents", json=body, headers=workspace.headers())


async def patch_agent(api: Api, workspace: Workspace, agent_id: str, body: dict):  # type: ignore[no-untyped-def]
    return await api.client.patch(
        f"/v1/agents/{agent_id}", json=body, headers=workspace.headers()
    )


async def test_create_agent_makes_draft_version_one(api: Api) -> None:
    workspace = await api.workspace(agents=())

    response = await post_agent(api, workspace, FULL_VERSION)

    agent = response.json()
    assert response.status_code == 201
    assert agent["id"].startswith("agent_")
    assert agent["title"] == "Appointment reminders"
    assert agent["latest_published_version"] is None
    assert agent["draft_version"] == 1
    (version,) = agent["versions"]
    assert version["version_number"] == 1
    assert version["is_published"] is False
    assert version["from_phone_number"] == "+15550100100"
    assert version["max_call_duration_sec"] == 300
    assert [f["field_type"] for f in version["post_call_analysis"]] == [
        "BOOLEAN",
        "SELECTOR",
        "TEXT",
    ]


async def test_create_agent_applies_defaults(api: Api) -> None:
    workspace = await api.workspace(agents=())

    response = await post_agent(api, workspace, {"title": "Bare"})

    version = response.json()["versions"][0]
    assert version["language_id"] == "en-US"
    assert version["max_call_duration_sec"] == 600
    assert version["end_call_on_silence_sec"] == 15
    assert version["default_dynamic_variables"] == {}
    assert version["post_call_analysis"] == []
    assert version["welcome_message"] is None


INVALID_BODIES = {
    "missing title": ({}, "title is required"),
    "empty title": ({"title": ""}, "title"),
    "long title": ({"title": "x" * 101}, "title"),
    "duration low": (
        {"title": "t", "max_call_duration_sec": 59},
        "max_call_duration_sec",
    ),
    "duration high": (
        {"title": "t", "max_call_duration_sec": 5401},
        "max_call_duration_sec",
    ),
    "duration text": (
        {"title": "t", "max_call_duration_sec": "600"},
        "max_call_duration_sec",
    ),
    "duration bool": (
        {"title": "t", "max_call_duration_sec": True},
        "max_call_duration_sec",
    ),
    "silence low": (
        {"title": "t", "end_call_on_silence_sec": 4},
        "end_call_on_silence_sec",
    ),
    "silence high": (
        {"title": "t", "end_call_on_silence_sec": 121},
        "end_call_on_silence_sec",
    ),
    "language": ({"title": "t", "language_id": "english please"}, "language_id"),
    "phone": ({"title": "t", "from_phone_number": "5550100"}, "from_phone_number"),
    "variables nested": (
        {"title": "t", "default_dynamic_variables": {"a": {"b": 1}}},
        "default_dynamic_variables",
    ),
    "field name": (
        {
            "title": "t",
            "post_call_analysis": [{"field_name": "a b", "field_type": "TEXT"}],
        },
        "post_call_analysis.0.field_name",
    ),
    "field type": (
        {
            "title": "t",
            "post_call_analysis": [{"field_name": "a", "field_type": "BLOB"}],
        },
        "post_call_analysis.0.field_type",
    ),
    "selector options": (
        {
            "title": "t",
            "post_call_analysis": [{"field_name": "a", "field_type": "SELECTOR"}],
        },
        "options are required for SELECTOR",
    ),
    "duplicate field": (
        {
            "title": "t",
            "post_call_analysis": [
                {"field_name": "a", "field_type": "TEXT"},
                {"field_name": "a", "field_type": "NUMBER"},
            ],
        },
        "appears twice",
    ),
    "not an object": ([1, 2], "body"),
    "null language": (
        {"title": "t", "language_id": None},
        "language_id must not be null",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_BODIES))
async def test_invalid_agent_body_is_400(api: Api, case: str) -> None:
    workspace = await api.workspace(agents=())
    body, expected = INVALID_BODIES[case]

    response = await post_agent(api, workspace, body)  # type: ignore[arg-type]
    listed = await api.get("/v1/agents", workspace)

    message = response.json()["message"]
    text = message if isinstance(message, str) else " ".join(message)
    assert response.status_code == 400
    assert expected in text
    assert listed.json()["meta"]["total"] == 0


async def test_malformed_json_is_400(api: Api) -> None:
    workspace = await api.workspace(agents=())

    response = await api.client.post(
        "/v1/agents",
        content=b'{"title": ',
        headers={**workspace.headers(), "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert "valid JSON" in response.json()["message"]


async def test_patch_edits_draft_and_publish_opens_next(api: Api) -> None:
    workspace = await api.workspace(agents=())
    agent_id = (await post_agent(api, workspace, FULL_VERSION)).json()["id"]

    edited = await patch_agent(
        api, workspace, agent_id, {"version_number": 1, "prompt_text": "New prompt"}
    )
    published = await patch_agent(
        api, workspace, agent_id, {"version_number": 1, "is_published": True}
    )
    frozen = await patch_agent(
        api, workspace, agent_id, {"version_number": 1, "title": "Changed"}
    )

    assert edited.status_code == 200
    assert edited.json()["versions"][0]["prompt_text"] == "New prompt"
    assert published.status_code == 200
    first, draft = published.json()["versions"]
    assert first["is_published"] is True
    assert first["published_at"] is not None
    assert draft["version_number"] == 2
    assert draft["is_published"] is False
    assert draft["prompt_text"] == "New prompt"
    assert draft["post_call_analysis"] == first["post_call_analysis"]
    assert published.json()["latest_published_version"] == 1
    assert published.json()["draft_version"] == 2
    assert frozen.status_code == 409
    assert "edit the draft version 2" in frozen.json()["message"]


async def test_patch_unknown_version_is_404_listing_versions(api: Api) -> None:
    workspace = await api.workspace(agents=())
    agent_id = (await post_agent(api, workspace, {"title": "t"})).json()["id"]

    response = await patch_agent(api, workspace, agent_id, {"version_number": 7})
    missing_number = await patch_agent(api, workspace, agent_id, {"title": "x"})

    assert response.status_code == 404
    assert "(versions: 1)" in response.json()["message"]
    assert missing_number.status_code == 400
    assert "version_number is required" in missing_number.json()["message"]


async def test_delete_hides_agent_but_keeps_calls(api: Api) -> None:
    workspace = await api.workspace()
    agent_id = workspace.agents["A"]
    (call_id,) = await api.seed(workspace, [{}])

    deleted = await api.client.delete(
        f"/v1/agents/{agent_id}", headers=workspace.headers()
    )
    fetched = await api.get(f"/v1/agents/{agent_id}", workspace)
    again = await api.client.delete(
        f"/v1/agents/{agent_id}", headers=workspace.headers()
    )
    call = await api.get(f"/v1/calls/{call_id}", workspace)

    assert deleted.status_code == 204
    assert fetched.status_code == 404
    assert again.status_code == 404
    assert call.status_code == 200
    assert call.json()["agent_id"] == agent_id


async def test_list_agents_pages_newest_first(api: Api) -> None:
    workspace = await api.workspace(agents=())
    created = [
        (await post_agent(api, workspace, {"title": f"t{i}"})).json()["id"]
        for i in range(5)
    ]

    first = await api.get("/v1/agents?limit=2", workspace)
    cursor = first.json()["meta"]["next_cursor"]
    second = await api.get(
        "/v1/agents", workspace, params={"limit": 2, "cursor": cursor}
    )
    third = await api.get("/v1/agents?limit=2&page=3", workspace)

    listed = [a["id"] for r in (first, second, third) for a in r.json()["data"]]
    assert sorted(listed) == sorted(created)
    assert len(set(listed)) == 5
    assert first.json()["meta"]["total"] == 5
    assert first.json()["meta"]["totalPages"] == 3
    assert "versions" not in first.json()["data"][0]


async def test_agents_of_other_workspaces_are_404(api: Api) -> None:
    mine = await api.workspace("Mine", agents=())
    theirs = await api.workspace("Theirs")
    their_agent = theirs.agents["A"]

    fetched = await api.get(f"/v1/agents/{their_agent}", mine)
    patched = await patch_agent(
        api, mine, their_agent, {"version_number": 2, "title": "x"}
    )
    deleted = await api.client.delete(
        f"/v1/agents/{their_agent}", headers=mine.headers()
    )
    listed = await api.get("/v1/agents", mine)

    assert fetched.status_code == 404
    assert patched.status_code == 404
    assert deleted.status_code == 404
    assert listed.json()["data"] == []


async def test_agent_permissions(api: Api) -> None:
    workspace = await api.workspace()
    read_only = await api.key(workspace, permissions=["agents:read"])
    no_agents = await api.key(workspace, permissions=["calls:read"])

    created = await api.client.post(
        "/v1/agents",
        json={"title": "t"},
        headers={"Authorization": f"Bearer {read_only}"},
    )
    listed = await api.get(
        "/v1/agents", headers={"Authorization": f"Bearer {no_agents}"}
    )

    assert created.status_code == 403
    assert created.json()["message"] == "This API key lacks the agents:write permission"
    assert listed.status_code == 403
    assert listed.json()["message"] == "This API key lacks the agents:read permission"
