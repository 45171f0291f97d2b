"""The job queue: jobs are rows written in the caller's transaction."""

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.time import utc_now
from ringline.jobs.models import Job

DIAL = "dial"
ANALYZE = "analyze"


async def enqueue(
    session: AsyncSession,
    kind: str,
    workspace_id: str,
    call_id: str,
    attempt: int,
    due_at: datetime,
) -> None:
    session.add(
        Job(
            kind=kind,
            workspace_id=workspace_id,
            call_id=call_id,
            attempt=attempt,
            due_at=due_at,
            created_at=utc_now(),
        )
    )
    await session.flush()


async def enqueue_many(
    session: AsyncSession, kind: str, jobs: list[tuple[str, str, datetime]]
) -> None:
    """Queue first attempts of kind, given as (workspace id, call id, due at)."""
    now = utc_now()
    rows = [
        {
            "kind": kind,
            "workspace_id": workspace_id,
            "call_id": call_id,
            "attempt": 1,
            "due_at": due_at,
            "created_at": now,
        }
        for workspace_id, call_id, due_at in jobs
    ]
    for start in range(0, len(rows), 1000):
        await session.execute(insert(Job), rows[start : start + 1000])
