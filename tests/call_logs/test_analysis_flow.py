"""Calls run by a real worker get their post-call analysis, queued at the end."""

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.dialing.helpers import place_call, published_agent, wait_until_final
from tests.factories import Api, Workspace, open_api

FIELDS = [
    {"field_name": "confirmed", "field_type": "BOOLEAN"},
    {"field_name": "callback_time", "field_type": "DATETIME"},
    {
        "field_name": "interest",
        "field_type": "SELECTOR",
        "options": ["high", "low"],
    },
]
SCRIPT = "- Can you confirm the appointment?\n- When should we call back?"


async def wait_for_analysis(
    api: Api, workspace: Workspace, call_id: str, timeout_s: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = await api.get(f"/v1/call-logs/{call_id}/details", workspace)
        log = response.json()
        if log["analysis_status"] != "pending":
            return log
        assert time.monotonic() < deadline, f"analysis still pending: {log}"
        await asyncio.sleep(0.1)


async def test_answered_call_gets_analysis(database_url: str, tmp_path: Path) -> None:
    async with open_api(database_url, tmp_path, run_worker=True) as api:
        workspace = await api.workspace()
        agent_id = await published_agent(
            api, workspace, prompt_text=SCRIPT, post_call_analysis=FIELDS
        )
        call_id = await place_call(api, workspace, agent_id, "+15550100150")
        await wait_until_final(api, workspace, call_id)

        log = await wait_for_analysis(api, workspace, call_id)
        call = (await api.get(f"/v1/calls/{call_id}", workspace)).json()

    events = [moment["event"] for moment in log["timeline"]]
    assert log["analysis_status"] == "completed"
    assert log["sentiment"] in {"positive", "neutral", "negative", "unknown"}
    assert isinstance(log["summary"], str)
    assert set(log["analysis"]) == {"confirmed", "callback_time", "interest"}
    assert isinstance(log["latency_ms"], int)
    assert log["transcript"] == call["transcript"]
    assert log["transcript_segments"][0]["role"] == "agent"
    assert events.index("call_ended") < events.index("analysis_completed")
    assert events[:4] == [
        "call_created",
        "call_initiated",
        "call_ringing",
        "call_answered",
    ]


async def test_unanswered_call_not_applicable(
    database_url: str, tmp_path: Path
) -> None:
    async with open_api(database_url, tmp_path, run_worker=True) as api:
        workspace = await api.workspace()
        agent_id = await published_agent(api, workspace, post_call_analysis=FIELDS)
        call_id = await place_call(api, workspace, agent_id, "+15550100101")
        await wait_until_final(api, workspace, call_id)
        await asyncio.sleep(0.5)

        log = (await api.get(f"/v1/call-logs/{call_id}/details", workspace)).json()

    events = [moment["event"] for moment in log["timeline"]]
    assert log["status"] == "busy"
    assert log["analysis_status"] == "not_applicable"
    assert log["sentiment"] is None
    assert log["analysis"] == {}
    assert log["transcript"] is None
    assert "analysis_completed" not in events
