"""Claiming jobs: workspace concurrency limits hold whatever the interleaving."""

import random
from datetime import timedelta

from sqlalchemy import func, select, update

from ringline.core.database import transaction
from ringline.core.time import utc_now
from ringline.dialing.worker import Worker, WorkerSettings
from ringline.jobs import queue
from ringline.jobs import repository as jobs
from ringline.jobs.models import Job
from ringline.workspaces.models import Workspace
from tests.factories import Api


async def locked_per_workspace(api: Api) -> dict[str, int]:
    now = utc_now()
    async with api.sessionmaker() as session:
        rows = await session.execute(
            select(Job.workspace_id, func.count())
            .where(Job.locked_until >= now)
            .group_by(Job.workspace_id)
        )
        return dict(rows.all())


async def enqueue_jobs(api: Api, workspace_id: str, count: int, offset: int) -> None:
    async with transaction(api.sessionmaker) as session:
        for number in range(count):
            await queue.enqueue(
                session,
                queue.DIAL,
                workspace_id,
                f"call_fake{offset + number:016d}",
                attempt=1,
                due_at=utc_now() - timedelta(seconds=1),
            )


async def test_claims_never_exceed_limits(api: Api) -> None:
    rng = random.Random(7)
    limits: dict[str, int] = {}
    for index in range(4):
        workspace = await api.workspace(f"W{index}", agents=())
        limits[workspace.id] = rng.randint(1, 6)
        async with transaction(api.sessionmaker) as session:
            stored = await session.get(Workspace, workspace.id)
            stored.concurrency_limit = limits[workspace.id]
        await enqueue_jobs(api, workspace.id, rng.randint(0, 25), index * 100)
    workers = [
        Worker(api.sessionmaker, runner=None, settings=WorkerSettings(lease_s=60))  # type: ignore[arg-type]
        for _ in range(3)
    ]
    claimed: list[int] = []

    for _ in range(60):
        worker = rng.choice(workers)
        if claimed and rng.random() < 0.4:
            async with transaction(api.sessionmaker) as session:
                await jobs.finish(session, claimed.pop(rng.randrange(len(claimed))))
        else:
            claimed += [job.id for job in await worker.claim(rng.randint(1, 10))]

        for workspace_id, running in (await locked_per_workspace(api)).items():
            assert running <= limits[workspace_id], workspace_id

    assert len(set(claimed)) == len(claimed)


async def test_expired_lease_is_claimed_again(api: Api) -> None:
    workspace = await api.workspace(agents=())
    await enqueue_jobs(api, workspace.id, 1, 0)
    first = Worker(api.sessionmaker, None, WorkerSettings(lease_s=60))  # type: ignore[arg-type]
    second = Worker(api.sessionmaker, None, WorkerSettings(lease_s=60))  # type: ignore[arg-type]

    (claimed,) = await first.claim(5)
    while_held = await second.claim(5)
    async with transaction(api.sessionmaker) as session:
        await session.execute(
            update(Job).values(locked_until=utc_now() - timedelta(seconds=1))
        )
    (recovered,) = await second.claim(5)

    assert while_held == []
    assert recovered.id == claimed.id


async def test_recovered_claim_has_old_heartbeat(api: Api) -> None:
    workspace = await api.workspace(agents=())
    await enqueue_jobs(api, workspace.id, 1, 0)
    first = Worker(api.sessionmaker, None, WorkerSettings(lease_s=60))  # type: ignore[arg-type]
    second = Worker(api.sessionmaker, None, WorkerSettings(lease_s=60))  # type: ignore[arg-type]
    heartbeat_at = utc_now().replace(microsecond=0) - timedelta(seconds=30)

    (claimed,) = await first.claim(5)
    async with transaction(api.sessionmaker) as session:
        await jobs.extend_leases(
            session,
            first.worker_id,
            [claimed.id],
            heartbeat_at,
            heartbeat_at + timedelta(seconds=1),
        )
    (recovered,) = await second.claim(5)
    async with api.sessionmaker() as session:
        stored = await session.get(Job, claimed.id)

    assert claimed.previous_heartbeat_at is None
    assert recovered.id == claimed.id
    assert recovered.previous_heartbeat_at == heartbeat_at
    assert stored is not None
    assert stored.heartbeat_at is not None
    assert stored.heartbeat_at > heartbeat_at
