"""Queries on the jobs table: claiming due work, leases and completion."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, func, or_, select, update
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


async def claim(
    session: AsyncSession,
    kind: str,
    workspace_id: str | None,
    worker_id: str,
    now: datetime,
    locked_until: datetime,
    limit: int,
) -> Sequence[Row]:
    """Lock up to limit due jobs for this worker, oldest first: of one workspace,
    or of any when workspace_id is None."""
    conditions = _claimable(kind, now)
    if workspace_id is not None:
        conditions.append(Job.workspace_id == workspace_id)
    candidates = (
        select(Job.id).where(*conditions).order_by(Job.due_at, Job.id).limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(await session.scalars(candidates))
    if not ids:
        return []
    claimed = (
        update(Job)
        .where(Job.id.in_(ids), or_(Job.locked_until.is_(None), Job.locked_until < now))
        .values(locked_by=worker_id, locked_until=locked_until)
        .returning(Job.id, Job.call_id, Job.workspace_id, Job.attempt)
    )
    return (await session.execute(claimed)).all()


async def extend_leases(
    session: AsyncSession, worker_id: str, job_ids: Sequence[int], until: datetime
) -> None:
    if not job_ids:
        return
    await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker_id)
        .values(locked_until=until)
    )


async def finish(session: AsyncSession, job_id: int) -> None:
    await session.execute(delete(Job).where(Job.id == job_id))


async def release(session: AsyncSession, job_id: int, due_at: datetime) -> None:
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(locked_by=None, locked_until=None, due_at=due_at)
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
