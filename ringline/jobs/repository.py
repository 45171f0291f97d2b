"""Queries on the jobs table: claiming due work, leases and completion."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.jobs.models import Job
from ringline.workspaces.models import Workspace


def _claimable(kind: str, now: datetime) -> list:
    return [
        Job.kind == kind,
        Job.due_at <= now,
        or_(Job.locked_until.is_(None), Job.locked_until < now),
    ]


async def workspaces_with_due_jobs(
    session: AsyncSession, kind: str, now: datetime, limit: int
) -> list[str]:
    query = (
        select(Job.workspace_id)
        .where(*_claimable(kind, now))
        .group_by(Job.workspace_id)
        .order_by(func.min(Job.due_at))
        .limit(limit)
    )
    return list(await session.scalars(query))


async def lock_workspace(session: AsyncSession, workspace_id: str) -> int | None:
    """Lock the workspace row for this transaction and return its concurrency limit.

    Claims for one workspace are serialized this way on PostgreSQL, so two workers
    cannot both take the last free slot. SQLite serializes all writers anyway.
    """
    query = (
        select(Workspace.concurrency_limit)
        .where(Workspace.id == workspace_id)
        .with_for_update()
    )
    return await session.scalar(query)


async def count_running(
    session: AsyncSession, kind: str, workspace_id: str, now: datetime
) -> int:
    query = select(func.count()).where(
        Job.kind == kind,
        Job.workspace_id == workspace_id,
        Job.locked_until >= now,
    )
    return await session.scalar(query) or 0


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    call_id: str
    workspace_id: str
    attempt: int
    # When the worker that held the job before this claim last renewed its lease.
    # None unless the job was recovered from a worker that stopped renewing it.
    previous_heartbeat_at: datetime | None = None


async def claim(
    session: AsyncSession,
    kind: str,
    workspace_id: str | None,
    worker_id: str,
    now: datetime,
    locked_until: datetime,
    limit: int,
) -> list[ClaimedJob]:
    """Lock up to limit due jobs for this worker, oldest first: of one workspace,
    or of any when workspace_id is None."""
    conditions = _claimable(kind, now)
    if workspace_id is not None:
        conditions.append(Job.workspace_id == workspace_id)
    candidates = (
        select(Job.id, Job.heartbeat_at)
        .where(*conditions)
        .order_by(Job.due_at, Job.id)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # The claim overwrites heartbeat_at, so the previous holder's value is read
    # first, in the same transaction.
    heartbeats = dict((await session.execute(candidates)).all())
    if not heartbeats:
        return []

    claimed = (
        update(Job)
        .where(
            Job.id.in_(heartbeats),
            or_(Job.locked_until.is_(None), Job.locked_until < now),
        )
        .values(locked_by=worker_id, locked_until=locked_until, heartbeat_at=now)
        .returning(Job.id, Job.call_id, Job.workspace_id, Job.attempt)
    )
    rows = (await session.execute(claimed)).all()
    return [ClaimedJob(*row, heartbeats[row[0]]) for row in rows]


async def extend_leases(
    session: AsyncSession,
    worker_id: str,
    job_ids: Sequence[int],
    now: datetime,
    until: datetime,
) -> None:
    """Renew this worker's leases on job_ids until `until`, noting `now` as
    their heartbeat."""
    if not job_ids:
        return
    await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker_id)
        .values(locked_until=until, heartbeat_at=now)
    )


async def finish(session: AsyncSession, job_id: int) -> None:
    await session.execute(delete(Job).where(Job.id == job_id))


async def release(session: AsyncSession, job_id: int, due_at: datetime) -> None:
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(locked_by=None, locked_until=None, heartbeat_at=None, due_at=due_at)
    )


async def count_due(session: AsyncSession, kind: str, now: datetime) -> int:
    query = select(func.count()).where(*_claimable(kind, now))
    return await session.scalar(query) or 0


async def next_due_at(session: AsyncSession, kind: str) -> datetime | None:
    """Return when the earliest unclaimed job of kind falls due, if there is one."""
    query = select(func.min(Job.due_at)).where(
        Job.kind == kind, Job.locked_until.is_(None)
    )
    return await session.scalar(query)
