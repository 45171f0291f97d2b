"""Running one dial job: status moves, the conversation, transcript and recording.

Every status change locks the call and checks its current status first, inside
a transaction shared with other running calls (see writer.py). So a cancel from
the API or a second worker is never overwritten, and a final status never
changes.
"""

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.agents.models import AgentVersion
from ringline.calls.enums import CallStatus, EndReason
from ringline.calls.models import Call
from ringline.calls.transitions import apply_move, is_final
from ringline.core.time import utc_now
from ringline.dialing import store
from ringline.dialing.conversation import (
    ModelResponder,
    Responder,
    ScriptResponder,
    Turn,
)
from ringline.dialing.providers import (
    Answer,
    CalleeHungUp,
    CarrierCall,
    TelephonyProvider,
)
from ringline.dialing.recordings import RecordingStore, render_recording
from ringline.dialing.variables import fill_variables
from ringline.dialing.writer import CallWriter
from ringline.jobs import repository as jobs
from ringline.jobs.repository import ClaimedJob

log = structlog.get_logger()

DEFAULT_WELCOME = "Hello, this is {{agent_name}}."
UNANSWERED: dict[Answer, tuple[CallStatus, EndReason]] = {
    Answer.BUSY: (CallStatus.BUSY, EndReason.USER_BUSY),
    Answer.RANG_OUT: (CallStatus.DID_NOT_PICK, EndReason.USER_DID_NOT_PICK_UP),
    Answer.UNREACHABLE: (CallStatus.NO_ANSWER, EndReason.USER_UNREACHABLE),
    Answer.VOICEMAIL: (CallStatus.DID_NOT_PICK, EndReason.VOICEMAIL_DETECTED),
}


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    dial_timeout_s: float
    speech_synthesis: bool = True
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None


@dataclass
class Conversation:
    """The turns spoken so far, with offsets in milliseconds from the answer."""

    answered_at: float = field(default_factory=time.monotonic)
    segments: list[dict[str, Any]] = field(default_factory=list)

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.answered_at) * 1000)

    def add(self, role: str, content: str, start_ms: int) -> None:
        self.segments.append(
            {
                "role": role,
                "content": content,
                "start_ms": start_ms,
                "end_ms": self.elapsed_ms(),
            }
        )

    def retime_last_turn(self, start_ms: int) -> None:
        """Set the last turn's start to start_ms and its end to now."""
        self.segments[-1]["start_ms"] = start_ms
        self.segments[-1]["end_ms"] = self.elapsed_ms()

    def history(self) -> list[Turn]:
        return [Turn(s["role"], s["content"]) for s in self.segments]

    def transcript(self) -> str | None:
        if not self.segments:
            return None
        names = {"agent": "Agent", "user": "User"}
        return "\n".join(f"{names[s['role']]}: {s['content']}" for s in self.segments)


def last_seen_at(call: Call, heartbeat_at: datetime | None) -> datetime:
    """Return the last moment the lost worker is known to have run the call.

    That is its last lease renewal or the call's last stored change (a status
    move or a turn), whichever is later, and never later than now.
    """
    seen = call.updated_at
    if heartbeat_at is not None:
        seen = max(seen, heartbeat_at)
    return min(seen, utc_now())


def end_lost_call(
    session: AsyncSession, call: Call, heartbeat_at: datetime | None
) -> None:
    """End a call whose worker was lost, as failed with end reason worker_lost.

    The call ends when that worker was last seen, so the time it was down
    counts as neither talk time nor call time, and the turns stored so far stay
    on it. The caller holds the row lock.
    """
    ended_at = last_seen_at(call, heartbeat_at)
    log.warning(
        "call.worker_lost",
        call_id=call.id,
        status=call.status,
        ended_at=ended_at.isoformat(),
    )
    apply_move(session, call, CallStatus.FAILED, ended_at, EndReason.WORKER_LOST)
    # The row changes now, though the call ended earlier.
    call.updated_at = utc_now()


class CallRunner:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        read_sessionmaker: async_sessionmaker[AsyncSession],
        provider: TelephonyProvider,
        recordings: RecordingStore,
        settings: RunnerSettings,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.reads = store.RunReads(read_sessionmaker)
        self.writer = CallWriter(sessionmaker)
        self.provider = provider
        self.recordings = recordings
        self.settings = settings

    async def run(self, job: ClaimedJob) -> None:
        structlog.contextvars.bind_contextvars(call_id=job.call_id, attempt=job.attempt)
        try:
            await self._run(job)
        finally:
            structlog.contextvars.unbind_contextvars("call_id", "attempt")

    async def _run(self, job: ClaimedJob) -> None:
        started = await self._start(job)
        if started is None:
            return
        version, call = started

        carrier = await self.provider.dial(call.from_phone_number, call.to_phone_number)
        if not await self._wait_for_carrier(job, carrier):
            return
        answer = await carrier.answer()
        if answer is not Answer.ANSWERED:
            status, reason = UNANSWERED[answer]
            await self.end(job, CallStatus.SENT, status, reason)
            return
        if not await self.move(job, CallStatus.SENT, CallStatus.RECEIVED):
            await carrier.hang_up()
            return
        await self._converse(job, call, version, carrier)

    async def _start(self, job: ClaimedJob) -> tuple[AgentVersion, Call] | None:
        """Move the call to initiated, or settle it if this job was recovered."""
        if await self.writer.submit_move(
            job.call_id, CallStatus.CREATED, CallStatus.INITIATED
        ):
            log.info("call.initiated", provider=self.provider.name)
            return await self.reads.load_for_run(job.call_id)

        async def settle(session: AsyncSession, call: Call | None) -> None:
            if call is not None and not is_final(call.status):
                # A worker died while it ran this call: whether the dial went out
                # cannot be known, and the status machine has no way back to
                # created, so the call ends here instead of being dialed twice.
                end_lost_call(session, call, job.previous_heartbeat_at)
            await jobs.finish(session, job.id)

        await self.writer.submit(job.call_id, settle)
        return None

    async def _wait_for_carrier(self, job: ClaimedJob, carrier: CarrierCall) -> bool:
        try:
            accepted = await asyncio.wait_for(
                carrier.accepted(), timeout=self.settings.dial_timeout_s
            )
        except TimeoutError:
            log.warning("call.dial_timed_out", timeout_s=self.settings.dial_timeout_s)
            accepted = False
        if not accepted:
            await self.end(
                job, CallStatus.INITIATED, CallStatus.FAILED, EndReason.NETWORK_FAILURE
            )
            return False
        return await self.move(job, CallStatus.INITIATED, CallStatus.SENT)

    def _responder(self, prompt: str) -> Responder:
        if self.settings.llm_base_url and self.settings.llm_model:
            return ModelResponder(
                self.settings.llm_base_url,
                self.settings.llm_model,
                self.settings.llm_api_key,
            )
        return ScriptResponder(prompt)

    async def _converse(
        self, job: ClaimedJob, call: Call, version: AgentVersion, carrier: CarrierCall
    ) -> None:
        conversation = Conversation()
        values = store.variables_for(call, version)
        prompt = fill_variables(version.prompt_text or "", *values)
        welcome = fill_variables(version.welcome_message or DEFAULT_WELCOME, *values)
        try:
            async with asyncio.timeout(version.max_call_duration_sec):
                reason = await self._talk(
                    job, carrier, conversation, welcome, prompt, version
                )
        except TimeoutError:
            reason = EndReason.MAX_DURATION_REACHED
        await carrier.hang_up()
        await self.end(
            job,
            CallStatus.RECEIVED,
            CallStatus.COMPLETED,
            reason,
            conversation=conversation,
            language=version.language_id,
        )

    async def _talk(
        self,
        job: ClaimedJob,
        carrier: CarrierCall,
        conversation: Conversation,
        welcome: str,
        prompt: str,
        version: AgentVersion,
    ) -> EndReason | None:
        """Alternate agent and callee turns until one side ends the call.

        Returns the end reason, or None when the call ended outside (a cancel).
        """
        responder = self._responder(prompt)
        line: str | None = welcome
        while line is not None:
            # The line is stored before it is spoken, so a cancel while it is
            # spoken keeps it. Its times are set when the speech ends, even when
            # the maximum call duration cuts it off.
            if not await self._add_turn(
                job, conversation, "agent", line, conversation.elapsed_ms()
            ):
                return None
            start = conversation.elapsed_ms()
            try:
                await carrier.say(line)
            finally:
                conversation.retime_last_turn(start)

            start = conversation.elapsed_ms()
            try:
                reply = await carrier.listen(float(version.end_call_on_silence_sec))
            except CalleeHungUp:
                return EndReason.USER_DISCONNECTED
            if reply is None:
                return EndReason.SILENCE_TIMEOUT
            if not await self._add_turn(job, conversation, "user", reply, start):
                return None
            line = await responder.reply(prompt, conversation.history())
        return EndReason.AGENT_DISCONNECTED

    async def _add_turn(
        self,
        job: ClaimedJob,
        conversation: Conversation,
        role: str,
        content: str,
        start_ms: int,
    ) -> bool:
        """Add a turn and store the transcript so far on the live call.

        The stored turns are what the call_ended event of a cancel carries, and
        what remains when the worker is lost. Returns False, and drops the turn,
        when the call has already ended, because the callee was hung up on
        before the turn.
        """
        conversation.add(role, content, start_ms)
        transcript = conversation.transcript()
        segments = [dict(segment) for segment in conversation.segments]

        async def store(session: AsyncSession, call: Call | None) -> bool:
            if call is None or call.status != CallStatus.RECEIVED:
                return False
            call.transcript = transcript
            call.transcript_segments = segments
            call.updated_at = utc_now()
            return True

        if await self.writer.submit(job.call_id, store):
            return True
        conversation.segments.pop()
        return False

    async def move(
        self, job: ClaimedJob, expected: CallStatus, target: CallStatus
    ) -> bool:
        """Apply one non-final move if the call is still in expected."""
        if await self.writer.submit_move(job.call_id, expected, target):
            log.info("call.status_changed", status=target)
            return True

        async def finish_if_ended(session: AsyncSession, call: Call | None) -> None:
            if call is None or is_final(call.status):
                await jobs.finish(session, job.id)

        log.info("call.moved_elsewhere", expected=expected)
        await self.writer.submit(job.call_id, finish_if_ended)
        return False

    async def end(
        self,
        job: ClaimedJob,
        expected: CallStatus,
        target: CallStatus,
        reason: EndReason | None,
        conversation: Conversation | None = None,
        language: str = "en-US",
    ) -> None:
        """End the call, store the transcript, and finish the job, in one transaction.

        When the call already ended (a cancel hung it up), its status stays, and
        the transcript keeps only the turns stored before the hang-up.
        """
        recording_key = None
        if conversation is not None and conversation.segments:
            recording_key = await self._save_recording(job, conversation, language)

        async def change(session: AsyncSession, call: Call | None) -> None:
            if call is not None:
                self._settle(session, call, expected, target, reason)
                if conversation is not None and call.answered_at is not None:
                    call.transcript = conversation.transcript()
                    call.transcript_segments = conversation.segments
                if recording_key is not None:
                    call.recording_path = recording_key
            await jobs.finish(session, job.id)

        await self.writer.submit(job.call_id, change)

    def _settle(
        self,
        session: AsyncSession,
        call: Call,
        expected: CallStatus,
        target: CallStatus,
        reason: EndReason | None,
    ) -> None:
        if call.status == expected and reason is not None:
            apply_move(session, call, target, utc_now(), reason)
            log.info("call.ended", call_id=call.id, status=target, end_reason=reason)

    async def _save_recording(
        self, job: ClaimedJob, conversation: Conversation, language: str
    ) -> str:
        last_end = conversation.segments[-1]["end_ms"]
        duration_ms = max(conversation.elapsed_ms(), last_end)
        recording = await render_recording(
            conversation.segments,
            duration_ms,
            language,
            self.settings.speech_synthesis,
        )
        key = f"{job.workspace_id}/{job.call_id}.wav"
        await self.recordings.save(key, recording)
        return key
