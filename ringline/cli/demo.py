"""`ringline demo`: a workspace, a key, an agent and a dozen sandbox calls."""

import asyncio
import os
import time
from typing import Annotated

import orjson
import typer
from sqlalchemy import select

from ringline.agents.schemas import AgentCreate, AgentUpdate
from ringline.agents.service import create_agent_from_request, update_agent
from ringline.calls.lifecycle import create_calls
from ringline.calls.models import Call
from ringline.calls.schemas import CallCreate
from ringline.calls.transitions import is_final
from ringline.cli.runtime import cli_transaction, run, state
from ringline.cli.serve import DEFAULT_HOST, DEFAULT_PORT
from ringline.core.database import (
    create_engine,
    create_sessionmaker,
    read_only,
)
from ringline.core.logging import configure_logging
from ringline.core.migrations import migrate
from ringline.core.settings import resolve_secret_key
from ringline.dialing.worker import create_worker
from ringline.keys.service import create_key
from ringline.webhooks.outbox import event_session_info
from ringline.workspaces.service import create_workspace

DEMO_AGENT = AgentCreate(
    title="Appointment reminder",
    welcome_message="Hi {{name}}, this is {{agent_name}} calling about your "
    "appointment on {{day}}.",
    prompt_text="Remind the callee of the appointment and ask them to confirm.\n"
    "- Your appointment is on {{day}} at {{time}}.\n"
    "- Can you confirm that you will come?",
    default_dynamic_variables={"name": "there", "day": "Monday", "time": "10 am"},
    post_call_analysis=[
        {"field_name": "confirmed", "field_type": "BOOLEAN"},
        {"field_name": "sentiment_note", "field_type": "TEXT"},
        {
            "field_name": "preferred_slot",
            "field_type": "SELECTOR",
            "options": ["am", "pm"],
        },
    ],
)
# One destination per sandbox outcome, then four full conversations.
DEMO_NUMBERS = [f"+155501001{ending:02d}" for ending in range(1, 9)] + [
    "+15550100111",
    "+15550100122",
    "+15550100133",
    "+15550100144",
]
DEMO_NAMES = ["Ann", "Bob", "Cleo", "Dev", "Eve", "Finn"]


async def _create_demo() -> tuple[str, str, list[str]]:
    async with cli_transaction() as session:
        workspace = await create_workspace(session, "Demo workspace", "+15550100100")
        _, token = await create_key(session, workspace.id, "demo key")
        agent = await create_agent_from_request(session, workspace.id, DEMO_AGENT)
    async with cli_transaction() as session:
        await update_agent(
            session,
            workspace.id,
            agent["id"],
            AgentUpdate(version_number=1, is_published=True),
        )
    bodies = [
        CallCreate(
            agent_id=agent["id"],
            phone_number=number,
            metadata={"name": DEMO_NAMES[index % len(DEMO_NAMES)], "day": "Friday"},
        )
        for index, number in enumerate(DEMO_NUMBERS)
    ]
    engine = create_engine(state.settings.database_url)
    try:
        created = await create_calls(engine, workspace.id, bodies)
    finally:
        await engine.dispose()
    call_ids = [orjson.loads(answer.body)["id"] for answer in created]
    return workspace.id, token, call_ids


async def _statuses(call_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    async with cli_transaction() as session:
        rows = await session.execute(
            select(Call.id, Call.status, Call.end_reason).where(Call.id.in_(call_ids))
        )
        return {call_id: (status, reason) for call_id, status, reason in rows}


async def _run_until_done(call_ids: list[str], timeout_s: float) -> None:
    settings = state.settings
    engine = create_engine(settings.database_url)
    stop = asyncio.Event()
    worker = create_worker(
        settings,
        create_sessionmaker(
            engine, event_session_info(settings, resolve_secret_key(settings))
        ),
        create_sessionmaker(read_only(engine)),
    )
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            statuses = await _statuses(call_ids)
            if all(is_final(status) for status, _ in statuses.values()):
                break
            await asyncio.sleep(1)
    finally:
        stop.set()
        await task
        await engine.dispose()


def demo(
    wait: Annotated[
        bool,
        typer.Option(
            envvar="RINGLINE_DEMO_WAIT",
            help="Run a worker here until every demo call has ended.",
        ),
    ] = True,
) -> None:
    """Create a demo workspace, key and agent, and place a dozen sandbox calls."""
    configure_logging("warning")
    run(lambda: migrate(state.settings.database_url))
    workspace_id, token, call_ids = run(_create_demo)
    typer.echo(f"workspace: {workspace_id}\nAPI key (shown once): {token}\ncalls:")
    for call_id, number in zip(call_ids, DEMO_NUMBERS, strict=True):
        typer.echo(f"  {call_id}  to {number}")
    if not wait:
        typer.echo(
            "The calls are queued; `ringline serve` or `ringline worker` places them."
        )
        return

    typer.echo("Placing the calls in the sandbox (Ctrl+C leaves them queued)...")
    run(lambda: _run_until_done(call_ids, timeout_s=300))
    statuses = run(lambda: _statuses(call_ids))
    for call_id in call_ids:
        status, reason = statuses[call_id]
        typer.echo(f"  {call_id}  {status:<13} {reason or ''}")
    # The address `ringline serve` listens on, from the same settings.
    host = os.environ.get("RINGLINE_HOST", DEFAULT_HOST)
    port = os.environ.get("RINGLINE_PORT", str(DEFAULT_PORT))
    typer.echo(
        "\nList them while `ringline serve` runs:\n"
        f'  curl -H "Authorization: Bearer {token}" http://{host}:{port}/v1/calls'
    )
