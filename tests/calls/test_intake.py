"""The call intake: creates written together in one shared transaction."""

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ringline.calls.intake import CallIntake, NewCall
from ringline.calls.models import Call
from ringline.core.database import transaction
from ringline.jobs.models import Job
from ringline.jobs.queue import DIAL, job_row
from tests.factories import Api, Workspace


def new_call(workspace: Workspace, call_id: str) -> NewCall:
    now = datetime.now(UTC)
    call = {
        "id": call_id,
        "workspace_id": workspace.id,
        "agent_id": workspace.agents["A"],
        "agent_version_number": 1,
        "type": "phone",
        "call_direction": "outbound",
        "from_phone_number": "+15550100100",
        "to_phone_number": "+15550100123",
        "status": "created",
        "call_metadata": {},
        "created_at": now,
        "updated_at": now,
    }
    event = {"call_id": call_id, "event": "call_created", "occurred_at": now}
    return NewCall(call, event, job_row(DIAL, workspace.id, call_id, 1, now))


async def test_intake_failing_create_fails_alone(api: Api) -> None:
    workspace = await api.workspace()
    intake = CallIntake(api.sessionmaker)
    await intake.store(new_call(workspace, "call_taken"))

    results = await asyncio.gather(
        intake.store(new_call(workspace, "call_first")),
        intake.store(new_call(workspace, "call_taken")),
        intake.store(new_call(workspace, "call_second")),
        return_exceptions=True,
    )
    await intake.close()

    assert results[0] is None
    assert isinstance(results[1], IntegrityError)
    assert results[2] is None
    async with transaction(api.sessionmaker) as session:
        calls = set(await session.scalars(select(Call.id)))
        jobs = sorted(await session.scalars(select(Job.call_id)))
    assert calls == {"call_taken", "call_first", "call_second"}
    assert jobs == ["call_first", "call_second", "call_taken"]


async def test_intake_close_writes_waiting(api: Api) -> None:
    workspace = await api.workspace()
    intake = CallIntake(api.sessionmaker)
    waiting = asyncio.ensure_future(intake.store(new_call(workspace, "call_late")))
    await asyncio.sleep(0)

    await intake.close()

    await waiting
    async with transaction(api.sessionmaker) as session:
        assert await session.get(Call, "call_late") is not None
