"""Workers sharing one queue: concurrency limits, races and recovery after a kill."""

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ringline.calls.models import Call, CallEvent
from ringline.core.database import (
    create_engine,
    create_sessionmaker,
    read_only,
    transaction,
)
from ringline.core.time import utc_now
from ringline.dialing.worker import create_worker
from ringline.workspaces.models import Workspace
from tests.dialing.helpers import (
    FINAL,
    place_call,
    published_agent,
    spawn_worker,
    wait_for_status,
    wait_until_final,
)
from tests.factories import Api, open_api, settings_for_tests

ACTIVE = ("initiated", "sent", "received")


@pytest.fixture
async def api_only(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(database_url, tmp_path) as api:
        yield api


async def active_calls(api: Api, workspace_id: str) -> int:
    async with api.sessionmaker() as session:
        query = select(func.count()).where(
            Call.workspace_id == workspace_id, Call.status.in_(ACTIVE)
        )
        return await session.scalar(query) or 0


async def test_concurrency_limit_holds(database_url: str, tmp_path: Path) -> None:
    async with open_api(database_url, tmp_path, run_worker=True) as api:
        workspace = await api.workspace()
        await set_concurrency(api, workspace.id, 3)
        agent_id = await published_agent(api, workspace)
        calls = [
            await place_call(api, workspace, agent_id, f"+155501002{i:02d}")
            for i in range(20)
        ]

        peak = 0
        while True:
            peak = max(peak, await active_calls(api, workspace.id))
            statuses = {
                c["status"]
                for c in (await api.get("/v1/calls?limit=100", workspace)).json()[
                    "data"
                ]
            }
            if statuses <= FINAL:
                break
            await asyncio.sleep(0.01)

    assert peak == 3
    assert len(calls) == 20


def start_worker_task(database_url: str, workdir: Path, stop: asyncio.Event):  # type: ignore[no-untyped-def]
    settings = settings_for_tests(database_url, workdir, worker_poll_seconds=0.01)
    engine = create_engine(database_url)
    worker = create_worker(
        settings,
        create_sessionmaker(engine),
        create_sessionmaker(read_only(engine)),
    )
    return engine, asyncio.create_task(worker.run(stop))


async def test_racing_workers_dial_each_call_once(
    api_only: Api, database_url: str, tmp_path: Path
) -> None:
    api = api_only
    workspace = await api.workspace()
    agent_id = await published_agent(api, workspace)
    calls = [
        await place_call(api, workspace, agent_id, f"+155501003{i:02d}")
        for i in range(30)
    ]
    await set_concurrency(api, workspace.id, 100)

    stop = asyncio.Event()
    workers = [start_worker_task(database_url, tmp_path, stop) for _ in range(3)]
    for call_id in calls:
        await wait_until_final(api, workspace, call_id, timeout_s=60)
    stop.set()
    for engine, task in workers:
        await task
        await engine.dispose()

    async with api.sessionmaker() as session:
        dials = dict(
            (
                await session.execute(
                    select(CallEvent.call_id, func.count())
                    .where(CallEvent.event == "call_initiated")
                    .group_by(CallEvent.call_id)
                )
            ).all()
        )
    assert dials == {call_id: 1 for call_id in calls}


async def test_killed_worker_calls_end_after_restart(
    api_only: Api, database_url: str, tmp_path: Path
) -> None:
    api = api_only
    workspace = await api.workspace()
    await set_concurrency(api, workspace.id, 4)
    agent_id = await published_agent(
        api, workspace, prompt_text="\n".join(f"- line {i}" for i in range(40))
    )
    live = [
        await place_call(api, workspace, agent_id, f"+1555010049{i}") for i in range(4)
    ]
    waiting = [
        await place_call(api, workspace, agent_id, f"+1555010048{i}") for i in range(2)
    ]
    first = spawn_worker(database_url, tmp_path)
    second = None
    try:
        await wait_for_active(api, workspace.id, 4)
        await asyncio.sleep(1.0)

        first.send_signal(signal.SIGKILL)
        first.wait()
        stuck = await active_calls(api, workspace.id)
        second = spawn_worker(database_url, tmp_path)
        lost = [await wait_until_final(api, workspace, c, timeout_s=30) for c in live]
        queued = [
            await wait_until_final(api, workspace, c, timeout_s=60) for c in waiting
        ]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=60)

    assert stuck == 4
    for call in lost:
        assert call["status"] == "failed"
        assert call["end_reason"] == "worker_lost"
        assert call["ended_at"] is not None
    for call in queued:
        assert call["status"] == "completed"
        assert call["end_reason"] == "agent_disconnected"


async def test_lost_call_ends_when_worker_died(
    api_only: Api, database_url: str, tmp_path: Path
) -> None:
    api = api_only
    workspace = await api.workspace()
    script = "\n".join(f"- line {i}" for i in range(40))
    agent_id = await published_agent(api, workspace, prompt_text=script)
    call_id = await place_call(api, workspace, agent_id, "+15550100499")
    first = spawn_worker(database_url, tmp_path)
    second = None
    try:
        await wait_for_status(api, workspace, call_id, {"received"}, timeout_s=30)
        # Turns take about 0.5 s and heartbeats come every 0.5 s with these
        # settings, so a few of each happen before the kill.
        await asyncio.sleep(1.5)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = utc_now()
        # The call stays down for longer than its lease before anyone recovers it.
        await asyncio.sleep(3.0)
        second = spawn_worker(database_url, tmp_path)
        call = await wait_until_final(api, workspace, call_id, timeout_s=30)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
    details = await api.get(f"/v1/call-logs/{call_id}/details", workspace)
    events = [moment["event"] for moment in details.json()["timeline"]]

    answered_at = datetime.fromisoformat(call["answered_at"])
    ended_at = datetime.fromisoformat(call["ended_at"])
    talk_ms = round((ended_at - answered_at).total_seconds() * 1000)
    assert call["status"] == "failed"
    assert call["end_reason"] == "worker_lost"
    assert answered_at < ended_at
    assert ended_at <= killed_at
    # The worker renews its lease every 0.5 s and stores a turn about as often,
    # so the last of them falls well within 1.5 s before the kill.
    assert (killed_at - ended_at).total_seconds() < 1.5
    assert call["duration_ms"] == talk_ms
    assert details.json()["transcript"].startswith("Agent: Hello, this is")
    assert "\nUser: " in details.json()["transcript"]
    assert events.count("call_ended") == 1


async def test_lost_ringing_call_ends_at_heartbeat(
    api_only: Api, database_url: str, tmp_path: Path
) -> None:
    api = api_only
    workspace = await api.workspace()
    agent_id = await published_agent(api, workspace)
    call_id = await place_call(api, workspace, agent_id, "+15550100199")
    first = spawn_worker(database_url, tmp_path, SANDBOX_RING_SECONDS="10")
    second = None
    try:
        ringing = await wait_for_status(api, workspace, call_id, {"sent"}, 30)
        # Nothing about the call is stored while it rings, so only the lease
        # renewals, every 0.5 s with these settings, show the worker is alive.
        await asyncio.sleep(2.0)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = utc_now()
        await asyncio.sleep(3.0)
        second = spawn_worker(database_url, tmp_path)
        call = await wait_until_final(api, workspace, call_id, timeout_s=30)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=60)

    rang_at = datetime.fromisoformat(ringing["updated_at"])
    ended_at = datetime.fromisoformat(call["ended_at"])
    assert call["status"] == "failed"
    assert call["end_reason"] == "worker_lost"
    assert call["answered_at"] is None
    assert call["duration_ms"] == 0
    assert (ended_at - rang_at).total_seconds() > 1.0
    assert ended_at <= killed_at
    assert (killed_at - ended_at).total_seconds() < 1.5


async def wait_for_active(api: Api, workspace_id: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while await active_calls(api, workspace_id) < count:
        assert time.monotonic() < deadline, "the worker never started the calls"
        await asyncio.sleep(0.05)


async def set_concurrency(api: Api, workspace_id: str, limit: int) -> None:
    async with transaction(api.sessionmaker) as session:
        (await session.get(Workspace, workspace_id)).concurrency_limit = limit
