"""The call status machine: which moves are allowed, and recording each move."""

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls.enums import AnalysisStatus, CallStatus
from ringline.calls.models import Call, CallEvent
from ringline.jobs.models import Job
from ringline.jobs.queue import ANALYZE
from ringline.webhooks import outbox

S = CallStatus
ALLOWED_MOVES: dict[CallStatus, frozenset[CallStatus]] = {
    S.CREATED: frozenset({S.INITIATED, S.CANCELLED, S.FAILED, S.RETRY_EXPIRED}),
    S.INITIATED: frozenset({S.SENT, S.FAILED, S.CANCELLED}),
    S.SENT: frozenset(
        {S.RECEIVED, S.DID_NOT_PICK, S.NO_ANSWER, S.BUSY, S.FAILED, S.CANCELLED}
    ),
    S.RECEIVED: frozenset({S.COMPLETED, S.FAILED}),
}

# The timeline event each status move is recorded as.
TIMELINE_EVENTS = {
    S.INITIATED: "call_initiated",
    S.SENT: "call_ringing",
    S.RECEIVED: "call_answered",
}


class IllegalTransition(Exception):
    """A move that the status machine does not allow, such as out of a final status."""


def is_final(status: str) -> bool:
    return status not in ALLOWED_MOVES


def can_move(current: str, target: CallStatus) -> bool:
    return target in ALLOWED_MOVES.get(CallStatus(current), frozenset())


def record_event(session: AsyncSession, call_id: str, event: str, at: datetime) -> None:
    session.add(CallEvent(call_id=call_id, event=event, occurred_at=at))


def apply_move(
    session: AsyncSession,
    call: Call,
    target: CallStatus,
    at: datetime,
    end_reason: str | None = None,
) -> None:
    """Move a loaded call to target and record the move on its timeline.

    The caller holds the row lock. Raises IllegalTransition for a move that the
    status machine does not allow.
    """
    if not can_move(call.status, target):
        raise IllegalTransition(f"call {call.id} cannot move {call.status} → {target}")

    call.status = target
    call.updated_at = at
    if target == S.INITIATED:
        call.initiated_at = at
    elif target == S.RECEIVED:
        call.answered_at = at
    if is_final(target):
        call.end_reason = end_reason
        call.ended_at = at
        call.duration_ms = _talk_time_ms(call.answered_at, at)
        _queue_analysis(session, call, at)
        outbox.note_event(session, call.id, outbox.CALL_ENDED, at)
    elif target == S.INITIATED:
        outbox.note_event(session, call.id, outbox.CALL_INITIATED, at)
    record_event(session, call.id, TIMELINE_EVENTS.get(target, "call_ended"), at)


def _queue_analysis(session: AsyncSession, call: Call, at: datetime) -> None:
    """Queue the post-call analysis of a call that was picked up, in the
    transaction that ends it. A call never picked up has nothing to analyse."""
    if call.answered_at is None:
        call.analysis_status = AnalysisStatus.NOT_APPLICABLE
        return
    call.analysis_status = AnalysisStatus.PENDING
    session.add(
        Job(
            kind=ANALYZE,
            workspace_id=call.workspace_id,
            call_id=call.id,
            attempt=1,
            due_at=at,
            created_at=at,
        )
    )


def _talk_time_ms(answered_at: datetime | None, ended_at: datetime) -> int:
    if answered_at is None:
        return 0
    return max(0, round((ended_at - answered_at).total_seconds() * 1000))


async def bulk_move(
    session: AsyncSession,
    call_ids: list[str],
    expected: CallStatus,
    target: CallStatus,
    at: datetime,
) -> list[str]:
    """Move every listed call still in expected to a non-final target, recording
    each move; return the ids that moved."""
    if is_final(target) or not can_move(expected, target):
        raise IllegalTransition(f"bulk move {expected} → {target} is not allowed")
    values: dict[str, object] = {"status": target, "updated_at": at}
    if target == S.INITIATED:
        values["initiated_at"] = at
    elif target == S.RECEIVED:
        values["answered_at"] = at
    statement = (
        update(Call)
        .where(Call.id.in_(call_ids), Call.status == expected)
        .values(**values)
        .returning(Call.id)
        .execution_options(synchronize_session=False)
    )
    moved = list(await session.scalars(statement))
    if target == S.INITIATED:
        for call_id in moved:
            outbox.note_event(session, call_id, outbox.CALL_INITIATED, at)
    if moved:
        event = TIMELINE_EVENTS.get(target, "call_ended")
        await session.execute(
            insert(CallEvent),
            [
                {"call_id": call_id, "event": event, "occurred_at": at}
                for call_id in moved
            ],
        )
    return moved
