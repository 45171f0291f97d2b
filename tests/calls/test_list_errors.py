"""Every malformed List Calls parameter is a 400 in the error body, naming it."""

import pytest

from tests.factories import Api

MALFORMED = {
    "page=0": "page must be an integer from 1",
    "page=-1": "page must be an integer from 1",
    "page=abc": "page must be an integer from 1",
    "page=1.5": "page must be an integer from 1",
    "page=99999999999999999999": "page must be an integer from 1",
    "limit=0": "limit must be an integer from 1 to 100",
    "limit=500": "limit must be an integer from 1 to 100 (got 500)",
    "limit=%EF%BC%95": "limit must be an integer from 1 to 100",
    "include_total=maybe": "include_total must be true or false",
    "status=finished": "status has unknown value 'finished'",
    "call_direction=sideways": "call_direction has unknown value",
    "type=fax": "type has unknown value",
    "end_reason=bored": "end_reason has unknown value",
    "agent_id=a%20b": "agent_id must be ids",
    "call_id=" + "x" * 65: "call_id must be ids",
    "batch_call_id=%3Cscript%3E": "batch_call_id must be ids",
    "from_number=5550100": "from_number must be a phone number in E.164",
    "to_number=%2Babc": "to_number must be a phone number in E.164",
    "from=yesterday": "from must be an ISO 8601 timestamp or a date",
    "to=2026-13-40": "to is not a valid date",
    "from=2026-11-31": "from is not a valid date",
    "to=2026-11-20T25:00:00Z": "to must be an ISO 8601 timestamp",
    "from=0001-01-01T00:00:00%2B05:00": "from must be between the years 1900 and 9998",
    "to=9999-12-31": "to must be between the years 1900 and 9998",
    "to=9998-12-31&timezone=Etc/GMT%2B12": "between the years 1900 and 9998 in UTC",
    "timezone=Mars/Olympus": "timezone must be an IANA zone name",
    "timezone=../../etc/passwd": "timezone must be an IANA zone name",
    "from=2026-11-21&to=2026-11-20": "from (2026-11-21) must not be later than to",
    "from=2026-11-20T10:00:00.001Z&to=2026-11-20T10:00:00Z": "must not be later",
    "cursor=abc": "cursor is invalid",
    "cursor=abc&page=2": "cursor and page cannot be combined",
    "agent_id=" + ",".join(f"a{i}" for i in range(101)): "at most 100",
}


@pytest.mark.parametrize("query", list(MALFORMED))
async def test_malformed_parameter_is_400(api: Api, query: str) -> None:
    workspace = await api.workspace()

    response = await api.get(f"/v1/calls?{query}", workspace)

    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400
    assert body["error"] == "Bad Request"
    message = (
        body["message"]
        if isinstance(body["message"], str)
        else " ".join(body["message"])
    )
    assert MALFORMED[query] in message


async def test_phone_number_in_from_points_to_number_filter(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.get("/v1/calls?from=%2B15550100123", workspace)

    assert response.status_code == 400
    assert "from_number" in response.json()["message"]


async def test_several_bad_parameters_listed_together(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.get("/v1/calls?limit=0&status=nope&from=x", workspace)

    messages = response.json()["message"]
    assert response.status_code == 400
    assert isinstance(messages, list)
    assert len(messages) == 3
    assert any(message.startswith("limit") for message in messages)
    assert any(message.startswith("status") for message in messages)
    assert any(message.startswith("from") for message in messages)


async def test_unknown_parameters_ignored(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{}])

    response = await api.get("/v1/calls?colour=blue&sort=sideways", workspace)

    assert response.status_code == 200
    assert len(response.json()["data"]) == 1


async def test_bounds_within_one_millisecond_list_nothing(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{"created_at": "2026-11-15T12:00:00Z"}])
    query = "from=2026-11-15T12:00:00.0001Z&to=2026-11-15T12:00:00.0009Z"

    within = await api.get(f"/v1/calls?{query}", workspace)
    inverted = await api.get(
        "/v1/calls?from=2026-11-15T12:00:00.0009Z&to=2026-11-15T12:00:00.0001Z",
        workspace,
    )

    assert within.status_code == 200
    assert within.json()["data"] == []
    assert inverted.status_code == 400
    assert "must not be later than" in inverted.json()["message"]
