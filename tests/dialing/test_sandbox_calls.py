"""Calls placed through the worker and the sandbox carrier, end to end."""

import asyncio
import io
import wave
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from ringline.agents.models import AgentVersion
from ringline.calls.models import Call, CallEvent
from ringline.core.database import transaction
from tests.dialing.fake_model import FakeModel, completion
from tests.dialing.helpers import (
    FINAL,
    place_call,
    published_agent,
    wait_for_status,
    wait_until_final,
)
from tests.factories import Api, Workspace, open_api

OUTCOMES = {
    "+15550100101": ("busy", "user_busy"),
    "+15550100102": ("did_not_pick", "user_did_not_pick_up"),
    "+15550100103": ("no_answer", "user_unreachable"),
    "+15550100104": ("failed", "network_failure"),
    "+15550100105": ("did_not_pick", "voicemail_detected"),
    "+15550100106": ("completed", "user_disconnected"),
    "+15550100108": ("failed", "network_failure"),
    "+15550100199": ("completed", "agent_disconnected"),
}


@pytest.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(database_url, tmp_path, run_worker=True) as api:
        yield api


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


async def test_each_outcome_ends_in_its_status(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(live, workspace)
    placed = {
        number: await place_call(live, workspace, agent_id, number)
        for number in OUTCOMES
    }

    ended = {
        number: await wait_until_final(live, workspace, call_id)
        for number, call_id in placed.items()
    }

    for number, (status, reason) in OUTCOMES.items():
        call = ended[number]
        assert (call["status"], call["end_reason"]) == (status, reason), number
        if status == "completed":
            assert call["duration_ms"] > 0, number
            assert call["answered_at"] is not None, number
        else:
            assert call["duration_ms"] == 0, number
            assert call["duration_seconds"] == 0, number
            assert call["answered_at"] is None, number
    failed = await live.get("/v1/calls?status=failed", workspace)
    assert sorted(c["to_phone_number"] for c in failed.json()["data"]) == [
        "+15550100104",
        "+15550100108",
    ]


async def test_timestamps_agree_with_duration(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(live, workspace)
    call_id = await place_call(live, workspace, agent_id, "+15550100177")

    call = await wait_until_final(live, workspace, call_id)

    created, initiated = parse(call["created_at"]), parse(call["initiated_at"])
    answered, ended = parse(call["answered_at"]), parse(call["ended_at"])
    assert created <= initiated <= answered <= ended
    talk_ms = round((ended - answered).total_seconds() * 1000)
    assert call["duration_ms"] == talk_ms
    assert call["duration_seconds"] == (talk_ms + 500) // 1000


async def test_timeline_records_every_move(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(live, workspace)
    call_id = await place_call(live, workspace, agent_id, "+15550100199")
    await wait_until_final(live, workspace, call_id)

    async with transaction(live.sessionmaker) as session:
        events = list(
            await session.execute(
                select(CallEvent.event, CallEvent.occurred_at)
                .where(CallEvent.call_id == call_id)
                .order_by(CallEvent.occurred_at, CallEvent.id)
            )
        )

    # The analysis may already have added its own moment after these.
    assert [event for event, _ in events][:5] == [
        "call_created",
        "call_initiated",
        "call_ringing",
        "call_answered",
        "call_ended",
    ]


async def test_conversation_fills_variables_and_records(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(
        live,
        workspace,
        welcome_message="Hi {{name}}, {{agent_name}} here about {{unknown}} {{topic}}.",
        prompt_text="Script:\n- Your visit is on {{day}}.\n- Can you confirm?",
        default_dynamic_variables={"topic": "your visit", "day": "Monday"},
    )
    call_id = await place_call(
        live,
        workspace,
        agent_id,
        "+15550100199",
        metadata={"name": "Ann", "day": "Friday"},
    )

    call = await wait_until_final(live, workspace, call_id)
    async with transaction(live.sessionmaker) as session:
        stored = await session.get(Call, call_id)
    recording = Path(live_recordings(live)) / stored.recording_path

    lines = call["transcript"].splitlines()
    assert lines[0] == "Agent: Hi Ann, Reminder bot here about your visit."
    assert "Agent: Your visit is on Friday." in lines
    assert "Agent: Can you confirm?" in lines
    assert "{{" not in call["transcript"]
    assert [s["role"] for s in stored.transcript_segments[:4]] == [
        "agent",
        "user",
        "agent",
        "user",
    ]
    starts = [s["start_ms"] for s in stored.transcript_segments]
    assert starts == sorted(starts)
    assert all(s["end_ms"] >= s["start_ms"] for s in stored.transcript_segments)
    with wave.open(io.BytesIO(recording.read_bytes())) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert abs(seconds * 1000 - call["duration_ms"]) < 1000


def live_recordings(api: Api) -> str:
    return str(api.client._transport.app.state.settings.recordings_dir)  # type: ignore[attr-defined]


async def test_cancel_during_live_call(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(
        live, workspace, prompt_text="\n".join(f"- line {i}" for i in range(50))
    )
    call_id = await place_call(live, workspace, agent_id, "+15550100199")
    await wait_for_status(live, workspace, call_id, {"received"})

    cancelled = await live.post(f"/v1/calls/{call_id}/cancel", workspace)
    final = await wait_for_transcript(live, workspace, call_id)

    assert cancelled.json()["status"] == "completed"
    assert cancelled.json()["end_reason"] == "agent_disconnected"
    assert final["status"] == "completed"
    assert final["end_reason"] == "agent_disconnected"
    assert final["ended_at"] == cancelled.json()["ended_at"]


async def wait_for_transcript(
    api: Api, workspace: Workspace, call_id: str
) -> dict[str, Any]:
    for _ in range(200):
        call = (await api.get(f"/v1/calls/{call_id}", workspace)).json()
        if call["transcript"]:
            return call
        await asyncio.sleep(0.05)
    raise AssertionError("the transcript was never stored")


async def test_cancel_while_ringing(database_url: str, tmp_path: Path) -> None:
    async with open_api(
        database_url, tmp_path, run_worker=True, sandbox_ring_seconds=3
    ) as api:
        workspace = await api.workspace()
        agent_id = await published_agent(api, workspace)
        call_id = await place_call(api, workspace, agent_id, "+15550100199")
        await wait_for_status(api, workspace, call_id, {"sent"})

        cancelled = await api.post(f"/v1/calls/{call_id}/cancel", workspace)
        later = await wait_until_final(api, workspace, call_id)
        await asyncio.sleep(3.5)
        after_ring = (await api.get(f"/v1/calls/{call_id}", workspace)).json()

    assert cancelled.json()["status"] == "cancelled"
    assert later["status"] == "cancelled"
    assert after_ring["status"] == "cancelled"
    assert after_ring["answered_at"] is None


async def test_silent_callee_times_out(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(live, workspace, end_call_on_silence_sec=5)
    call_id = await place_call(live, workspace, agent_id, "+15550100107")

    call = await wait_until_final(live, workspace, call_id, timeout_s=30)

    assert call["status"] == "completed"
    assert call["end_reason"] == "silence_timeout"
    assert call["duration_ms"] >= 5000


async def test_max_duration_ends_call(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(
        live, workspace, prompt_text="\n".join(f"- line {i}" for i in range(200))
    )
    # The API allows 60 seconds at least; the test shortens it in the database.
    async with transaction(live.sessionmaker) as session:
        await session.execute(
            update(AgentVersion)
            .where(AgentVersion.agent_id == agent_id)
            .values(max_call_duration_sec=1)
        )
    call_id = await place_call(live, workspace, agent_id, "+15550100199")

    call = await wait_until_final(live, workspace, call_id)

    assert call["end_reason"] == "max_duration_reached"
    assert 1000 <= call["duration_ms"] < 2500


async def test_final_status_never_changes(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(live, workspace)
    call_id = await place_call(live, workspace, agent_id, "+15550100101")
    first = await wait_until_final(live, workspace, call_id)

    cancel = await live.post(f"/v1/calls/{call_id}/cancel", workspace)
    again = (await live.get(f"/v1/calls/{call_id}", workspace)).json()

    assert cancel.status_code == 409
    assert again["status"] == first["status"] == "busy"
    assert again["updated_at"] == first["updated_at"]
    assert FINAL >= {again["status"]}


async def test_model_replies_drive_the_conversation(
    database_url: str, tmp_path: Path, fake_model: str
) -> None:
    FakeModel.answers = [
        completion("Does Friday at ten suit you?"),
        completion("END_CALL"),
    ]
    async with open_api(
        database_url, tmp_path, run_worker=True, llm_base_url=fake_model, llm_model="m"
    ) as api:
        workspace = await api.workspace()
        agent_id = await published_agent(api, workspace, prompt_text="Book a visit.")
        call_id = await place_call(api, workspace, agent_id, "+15550100199")
        call = await wait_until_final(api, workspace, call_id)

    lines = call["transcript"].splitlines()
    assert call["end_reason"] == "agent_disconnected"
    assert lines[2] == "Agent: Does Friday at ten suit you?"
    assert len(lines) == 4


async def test_silent_carrier_ends_after_dial_timeout(live: Api) -> None:
    workspace = await live.workspace()
    agent_id = await published_agent(live, workspace)
    call_id = await place_call(live, workspace, agent_id, "+15550100108")

    call = await wait_until_final(live, workspace, call_id)
    async with live.sessionmaker() as session:
        ended_events = await session.scalar(
            select(func.count()).where(
                CallEvent.call_id == call_id, CallEvent.event == "call_ended"
            )
        )

    waited = parse(call["ended_at"]) - parse(call["initiated_at"])
    assert (call["status"], call["end_reason"]) == ("failed", "network_failure")
    # The test settings give the carrier 0.6 seconds to take the dial request.
    assert 0.6 <= waited.total_seconds() < 0.6 + 1.0
    assert ended_events == 1
