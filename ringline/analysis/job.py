"""Running one analysis job: read the ended call, analyse it, store the result.

The job was queued in the transaction that ended the call. The result, the
analysis_completed moment of the timeline and the job's removal are written in
one transaction, so a worker that dies midway leaves the job to be run again.
"""

import asyncio
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.agents.models import AgentVersion
from ringline.analysis.model import AnalysisFailed, analyze_with_model
from ringline.analysis.offline import analyze_offline
from ringline.analysis.result import AnalysisResult
from ringline.calls.enums import AnalysisStatus
from ringline.calls.models import Call
from ringline.calls.transitions import record_event
from ringline.core.database import transaction
from ringline.core.time import utc_now
from ringline.jobs import repository as jobs
from ringline.jobs.models import Job
from ringline.jobs.queue import DIAL
from ringline.webhooks import outbox

log = structlog.get_logger()

# While the call's own dial job still runs (a cancel ended the call, and the
# runner is still storing its transcript), the analysis waits this long.
WAIT_FOR_TRANSCRIPT = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class ModelSettings:
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None


@dataclass(frozen=True, slots=True)
class EndedCall:
    segments: list[dict[str, Any]]
    definitions: list[dict[str, Any]]
    ended_at: datetime | None
    dialing: bool


def reply_latency_ms(segments: list[dict[str, Any]]) -> int | None:
    """Return the median time from the end of a callee's turn to the start of
    the agent's reply, or None when the agent never replied to the callee."""
    gaps = [
        max(0, current["start_ms"] - previous["end_ms"])
        for previous, current in zip(segments, segments[1:], strict=False)
        if previous["role"] == "user" and current["role"] == "agent"
    ]
    return round(statistics.median(gaps)) if gaps else None


def field_definitions(version: AgentVersion | None) -> list[dict[str, Any]]:
    """Return the version's analysis fields with every key present."""
    if version is None:
        return []
    return [
        {
            "field_name": field["field_name"],
            "field_type": field["field_type"],
            "field_description": field.get("field_description"),
            "options": field.get("options"),
        }
        for field in version.post_call_analysis
    ]


class AnalysisRunner:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        read_sessionmaker: async_sessionmaker[AsyncSession],
        model: ModelSettings,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker
        self.model = model

    async def run(self, job_id: int, call_id: str) -> None:
        ended = await self._load(call_id)
        if ended is None:
            async with transaction(self.sessionmaker) as session:
                await jobs.finish(session, job_id)
            return
        if ended.dialing:
            async with transaction(self.sessionmaker) as session:
                await jobs.release(session, job_id, utc_now() + WAIT_FOR_TRANSCRIPT)
            return

        result = await self._analyze(call_id, ended)
        await self._store(job_id, call_id, result, reply_latency_ms(ended.segments))

    async def _load(self, call_id: str) -> EndedCall | None:
        async with self.read_sessionmaker() as session:
            call = await session.get(Call, call_id)
            if call is None:
                return None
            version = await session.get(
                AgentVersion, (call.agent_id, call.agent_version_number)
            )
            dial_jobs = await session.scalars(
                select(Job.id).where(Job.kind == DIAL, Job.call_id == call_id)
            )
            return EndedCall(
                segments=list(call.transcript_segments or []),
                definitions=field_definitions(version),
                ended_at=call.ended_at,
                dialing=dial_jobs.first() is not None,
            )

    async def _analyze(self, call_id: str, ended: EndedCall) -> AnalysisResult | None:
        """Return the analysis, or None when it failed (the reason is logged)."""
        try:
            if self.model.base_url and self.model.model:
                return await analyze_with_model(
                    ended.segments,
                    ended.definitions,  # type: ignore[arg-type]
                    self.model.base_url,
                    self.model.model,
                    self.model.api_key,
                    ended.ended_at,
                )
            # The lexicon and the date parser are plain Python, so they run in a
            # thread to keep the event loop free for running calls.
            return await asyncio.to_thread(
                analyze_offline,
                ended.segments,  # type: ignore[arg-type]
                ended.definitions,  # type: ignore[arg-type]
                ended.ended_at,
            )
        except AnalysisFailed as error:
            log.warning("analysis.failed", call_id=call_id, error=str(error))
        except Exception:
            log.exception("analysis.crashed", call_id=call_id)
        return None

    async def _store(
        self,
        job_id: int,
        call_id: str,
        result: AnalysisResult | None,
        latency_ms: int | None,
    ) -> None:
        now = utc_now()
        async with transaction(self.sessionmaker) as session:
            call = await session.get(Call, call_id, with_for_update=True)
            if call is not None:
                call.latency_ms = latency_ms
                call.updated_at = now
                if result is None:
                    call.analysis_status = AnalysisStatus.FAILED
                else:
                    call.sentiment = result.sentiment
                    call.summary = result.summary or None
                    call.analysis = result.fields
                    call.analysis_status = AnalysisStatus.COMPLETED
                    record_event(session, call_id, "analysis_completed", now)
                outbox.note_event(session, call_id, outbox.CALL_ANALYZED, now)
            await jobs.finish(session, job_id)
        log.info("analysis.stored", call_id=call_id, completed=result is not None)
