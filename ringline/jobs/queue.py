"""The job queue: jobs are rows written in the caller's transaction."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.time import utc_now
from ringline.jobs.models import Job

DIAL = "dial"


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
