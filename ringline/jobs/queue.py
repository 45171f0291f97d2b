"""The job queue: jobs are rows written in the caller's transaction."""

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.time import utc_now
from ringline.jobs.models import Job

DIAL = "dial"
ANALYZE = "analyze"


def job_row(
    kind: str, workspace_id: str, call_id: str, attempt: int, due_at: datetime
) -> dict[str, Any]:
    """Return the column values of a new job, for a bulk insert."""
    return {
        "kind": kind,
        "workspace_id": workspace_id,
        "call_id": call_id,
        "attempt": attempt,
        "due_at": due_at,
        "created_at": utc_now(),
    }


async def enqueue(
    session: AsyncSession,
    kind: str,
    workspace_id: str,
    call_id: str,
    attempt: int,
    due_at: datetime,
) -> None:
    session.add(Job(**job_row(kind, workspace_id, call_id, attempt, due_at)))
    await session.flush()


async def enqueue_many(
    session: AsyncSession, kind: str, jobs: list[tuple[str, str, datetime]]
) -> None:
    """Queue first attempts of kind, given as (workspace id, call id, due at)."""
    rows = [
        job_row(kind, workspace_id, call_id, 1, due_at)
        for workspace_id, call_id, due_at in jobs
    ]
    for start in range(0, len(rows), 1000):
        await session.execute(insert(Job), rows[start : start + 1000])
