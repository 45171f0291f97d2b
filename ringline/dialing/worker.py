"""The worker: claims due dial jobs and runs each call as an asyncio task, and
claims analysis jobs of ended calls.

Several workers, in one process or many, on one machine or several sharing a
PostgreSQL database, share the queue: a job is claimed with a lease that the
worker extends while the call runs. When a worker dies, its leases expire and
another worker recovers the calls.
"""

import asyncio
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.analysis.job import AnalysisRunner, ModelSettings
from ringline.core.database import transaction
from ringline.core.ids import random_string
from ringline.core.settings import Settings
from ringline.core.time import utc_now
from ringline.dialing.providers import SandboxProvider, SandboxTiming
from ringline.dialing.recordings import LocalRecordingStore
from ringline.dialing.runner import CallRunner, RunnerSettings
from ringline.jobs import repository as jobs
from ringline.jobs.queue import ANALYZE, DIAL
from ringline.jobs.repository import ClaimedJob
from ringline.webhooks.delivery import DeliverySettings, DeliveryWorker

log = structlog.get_logger()

# Analyses run at once per worker. Offline analysis is CPU work in threads, so
# more would only queue behind the interpreter lock.
ANALYSIS_CAPACITY = 4


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    capacity: int = 1000
    poll_s: float = 0.2
    lease_s: float = 30.0


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{random_string(6)}"


class Worker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        runner: CallRunner,
        settings: WorkerSettings,
        worker_id: str | None = None,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        analyses: AnalysisRunner | None = None,
        deliveries: DeliveryWorker | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker or sessionmaker
        self.analyses = analyses
        self.analysing: dict[int, asyncio.Task[None]] = {}
        self.deliveries = deliveries
        self.runner = runner
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.running: dict[int, asyncio.Task[None]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run calls until stop is set, then wait for running calls."""
        log.info("worker.started", worker_id=self.worker_id)
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        sending = None
        if self.deliveries is not None:
            sending = asyncio.create_task(
                self.deliveries.run(stop, self.settings.poll_s)
            )
        try:
            while not stop.is_set():
                try:
                    await self._claim_and_start()
                except Exception:
                    log.exception("worker.claim_failed")
                try:
                    await asyncio.wait_for(stop.wait(), timeout=await self._pause())
                except TimeoutError:
                    pass
        finally:
            await self._drain()
            if sending is not None:
                if not stop.is_set():
                    sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)
            heartbeat.cancel()
            log.info("worker.stopped", worker_id=self.worker_id)

    async def _pause(self) -> float:
        """Return how long to wait before the next claim: the poll interval, or
        less when a scheduled call falls due sooner, so it is dialed on time."""
        try:
            async with self.read_sessionmaker() as session:
                due_at = await jobs.next_due_at(session, DIAL)
        except Exception as error:  # the poll interval still applies
            log.warning("worker.next_due_failed", error=str(error))
            return self.settings.poll_s
        if due_at is None:
            return self.settings.poll_s
        seconds = (due_at - utc_now()).total_seconds()
        return min(self.settings.poll_s, max(0.0, seconds))

    async def _drain(self) -> None:
        if self.running or self.analysing:
            log.info("worker.waiting_for_calls", count=len(self.running))
            tasks = [*self.running.values(), *self.analysing.values()]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _claim_and_start(self) -> None:
        free = self.settings.capacity - len(self.running)
        if free > 0:
            for job in await self.claim(free):
                task = asyncio.create_task(self._run(job))
                self.running[job.id] = task
        await self._claim_analyses()

    async def _claim_analyses(self) -> None:
        free = ANALYSIS_CAPACITY - len(self.analysing)
        if self.analyses is None or free <= 0:
            return
        now = utc_now()
        until = now + timedelta(seconds=self.settings.lease_s)
        async with transaction(self.sessionmaker) as session:
            claimed = await jobs.claim(
                session, ANALYZE, None, self.worker_id, now, until, free
            )
        for job in claimed:
            task = asyncio.create_task(self._analyse(job.id, job.call_id))
            self.analysing[job.id] = task

    async def _analyse(self, job_id: int, call_id: str) -> None:
        assert self.analyses is not None
        try:
            await self.analyses.run(job_id, call_id)
        except Exception:
            # The lease is left to expire, so the analysis is tried again.
            log.exception("worker.analysis_failed", call_id=call_id)
        finally:
            self.analysing.pop(job_id, None)

    async def _run(self, job: ClaimedJob) -> None:
        try:
            await self.runner.run(job)
        except Exception:
            # The lease is left to expire, so another worker settles the call.
            log.exception("worker.call_failed", call_id=job.call_id)
        finally:
            self.running.pop(job.id, None)

    async def claim(self, limit: int) -> list[ClaimedJob]:
        """Claim due jobs within each workspace's concurrency limit."""
        now = utc_now()
        async with transaction(self.sessionmaker) as session:
            workspace_ids = await jobs.workspaces_with_due_jobs(session, DIAL, now, 50)
        claimed: list[ClaimedJob] = []
        for workspace_id in workspace_ids:
            if len(claimed) >= limit:
                break
            claimed += await self._claim_in(workspace_id, limit - len(claimed))
        return claimed

    async def _claim_in(self, workspace_id: str, limit: int) -> list[ClaimedJob]:
        now = utc_now()
        until = now + timedelta(seconds=self.settings.lease_s)
        async with transaction(self.sessionmaker) as session:
            concurrency = await jobs.lock_workspace(session, workspace_id)
            if concurrency is None:
                return []
            running = await jobs.count_running(session, DIAL, workspace_id, now)
            free = min(limit, concurrency - running)
            if free <= 0:
                return []
            return await jobs.claim(
                session, DIAL, workspace_id, self.worker_id, now, until, free
            )

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        interval = self.settings.lease_s / 3
        while True:
            await asyncio.sleep(interval)
            now = utc_now()
            until = now + timedelta(seconds=self.settings.lease_s)
            try:
                async with transaction(self.sessionmaker) as session:
                    leased = [*self.running, *self.analysing]
                    await jobs.extend_leases(
                        session, self.worker_id, leased, now, until
                    )
                if self.deliveries is not None:
                    await self.deliveries.extend_leases(until)
            except Exception:
                log.exception("worker.heartbeat_failed")


def create_worker(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    read_sessionmaker: async_sessionmaker[AsyncSession],
) -> Worker:
    """Build a worker with the sandbox carrier and local recording storage."""
    worker_id = new_worker_id()
    timing = SandboxTiming(
        ring_s=settings.sandbox_ring_seconds, turn_s=settings.sandbox_turn_seconds
    )
    runner = CallRunner(
        sessionmaker,
        read_sessionmaker,
        SandboxProvider(timing),
        LocalRecordingStore(settings.recordings_dir),
        RunnerSettings(
            dial_timeout_s=settings.sandbox_dial_timeout_seconds,
            speech_synthesis=settings.speech_synthesis,
            llm_base_url=settings.llm_base_url,
            llm_model=settings.llm_model,
            llm_api_key=settings.llm_api_key,
        ),
    )
    return Worker(
        sessionmaker,
        runner,
        WorkerSettings(
            capacity=settings.worker_capacity,
            poll_s=settings.worker_poll_seconds,
            lease_s=settings.worker_lease_seconds,
        ),
        worker_id=worker_id,
        read_sessionmaker=read_sessionmaker,
        deliveries=DeliveryWorker(
            sessionmaker,
            DeliverySettings(
                allow_private=settings.webhook_allow_private,
                retry_base_s=settings.webhook_retry_base_seconds,
                lease_s=settings.worker_lease_seconds,
            ),
            worker_id,
        ),
        analyses=AnalysisRunner(
            sessionmaker,
            read_sessionmaker,
            ModelSettings(
                settings.llm_base_url, settings.llm_model, settings.llm_api_key
            ),
        ),
    )
