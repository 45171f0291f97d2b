"""Helpers for tests that run calls through a real worker."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.factories import Api, Workspace

FINAL = {
    "completed",
    "did_not_pick",
    "no_answer",
    "busy",
    "failed",
    "cancelled",
    "retry_expired",
}


async def published_agent(api: Api, workspace: Workspace, **fields: Any) -> str:
    body = {"title": "Reminder bot", **fields}
    agent_id = (await api.post("/v1/agents", workspace, body)).json()["id"]
    published = await api.client.patch(
        f"/v1/agents/{agent_id}",
        json={"version_number": 1, "is_published": True},
        headers=workspace.headers(),
    )
    assert published.status_code == 200, published.text
    return agent_id


async def place_call(
    api: Api, workspace: Workspace, agent_id: str, number: str, **fields: Any
) -> str:
    body = {"agent_id": agent_id, "phone_number": number, **fields}
    response = await api.post("/v1/calls", workspace, body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def wait_for_status(
    api: Api,
    workspace: Workspace,
    call_id: str,
    statuses: set[str],
    timeout_s: float = 20.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        call = (await api.get(f"/v1/calls/{call_id}", workspace)).json()
        if call["status"] in statuses:
            return call
        if time.monotonic() > deadline:
            raise AssertionError(
                f"call {call_id} still {call['status']} after {timeout_s}s"
            )
        await asyncio.sleep(0.05)


async def wait_until_final(
    api: Api, workspace: Workspace, call_id: str, timeout_s: float = 20.0
) -> dict[str, Any]:
    return await wait_for_status(api, workspace, call_id, FINAL, timeout_s)


def spawn_worker(database_url: str, workdir: Path, **settings: str) -> subprocess.Popen:
    """Start `ringline worker` with short test timings; settings are more
    RINGLINE_ variables, as NAME=value."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGLINE_")}
    env.update(
        {
            "RINGLINE_DATABASE_URL": database_url,
            "RINGLINE_SECRET_KEY": "x" * 40,
            "RINGLINE_LOG_LEVEL": "warning",
            "RINGLINE_SANDBOX_RING_SECONDS": "0.2",
            "RINGLINE_SANDBOX_TURN_SECONDS": "0.5",
            "RINGLINE_SANDBOX_DIAL_TIMEOUT_SECONDS": "0.5",
            "RINGLINE_WORKER_POLL_SECONDS": "0.05",
            "RINGLINE_WORKER_LEASE_SECONDS": "1.5",
            "RINGLINE_RECORDINGS_DIR": str(workdir / "recordings"),
            **{f"RINGLINE_{name}": value for name, value in settings.items()},
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "ringline", "worker"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
