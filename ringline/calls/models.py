from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from ringline.core.database import Base, JSONDocument, UTCDateTime


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    agent_id: Mapped[str] = mapped_column(String(64))
    agent_version_number: Mapped[int] = mapped_column(Integer)
    batch_call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    type: Mapped[str] = mapped_column(String(8))
    call_direction: Mapped[str] = mapped_column(String(8))
    from_phone_number: Mapped[str] = mapped_column(String(20))
    to_phone_number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recording_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    call_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument())
    transcript: Mapped[str | None] = mapped_column(Text, nullable=True)
    # [{"role": "agent"|"user", "content", "start_ms", "end_ms"}], offsets from answer.
    transcript_segments: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSONDocument(), nullable=True
    )
    sentiment: Mapped[str | None] = mapped_column(String(16), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The agent version's post-call fields by name, once the analysis completed.
    analysis: Mapped[dict[str, Any] | None] = mapped_column(
        JSONDocument(), nullable=True
    )
    analysis_status: Mapped[str] = mapped_column(String(16), default="pending")
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    initiated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# Every list index ends in (created_at DESC, id DESC), the list order, so a filtered
# first page is an index range read with no sort. Directions must match the ORDER BY:
# an ascending id made SQLite sort in memory.
def _list_index(name: str, *columns: Any) -> Index:
    return Index(
        name, Call.workspace_id, *columns, Call.created_at.desc(), Call.id.desc()
    )


_list_index("ix_calls_list")
_list_index("ix_calls_agent", Call.agent_id)
_list_index("ix_calls_status", Call.status)
_list_index("ix_calls_batch", Call.batch_call_id)
_list_index("ix_calls_end_reason", Call.end_reason)
_list_index("ix_calls_to_number", Call.to_phone_number)
_list_index("ix_calls_from_number", Call.from_phone_number)
_list_index("ix_calls_sentiment", Call.sentiment)

# Call logs sort by duration with calls that have none last, in both directions.
# These keys put them there and are indexed, so the sort reads an index in order.
# The numbers are written into the SQL, not bound, so the query's expression is
# the same as the index's and the database uses the index.
DURATION_DESC_KEY = func.coalesce(Call.duration_ms, literal_column("-1"))
DURATION_ASC_KEY = func.coalesce(Call.duration_ms, literal_column(str(2**62)))
Index(
    "ix_calls_duration_desc",
    Call.workspace_id,
    DURATION_DESC_KEY.desc(),
    Call.created_at.desc(),
    Call.id.desc(),
)
Index(
    "ix_calls_duration_asc",
    Call.workspace_id,
    DURATION_ASC_KEY,
    Call.created_at,
    Call.id,
)


class CallEvent(Base):
    """One moment of a call's timeline: a status move or an analysis result."""

    __tablename__ = "call_events"
    __table_args__ = (Index("ix_call_events_call", "call_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    call_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("calls.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdempotencyKey(Base):
    """A create request's Idempotency-Key with the response it got, for replays."""

    __tablename__ = "idempotency_keys"

    workspace_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
