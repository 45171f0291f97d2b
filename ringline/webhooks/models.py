from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ringline.core.database import Base, JSONDocument, UTCDateTime


class Webhook(Base):
    """A workspace's subscription: where to send which call events, and how."""

    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_list", "workspace_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(Text)
    # Canonical event types: call_initiated, call_ended, call_analyzed.
    events: Mapped[list[str]] = mapped_column(JSONDocument())
    # Kept as given, since every delivery is signed with it.
    secret: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    retry_count: Mapped[int] = mapped_column(Integer, default=5)
    timeout_ms: Mapped[int] = mapped_column(Integer, default=10_000)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEvent(Base):
    """One call event, written in the transaction of the change that caused it.

    The body is frozen here, so every attempt of every delivery sends the same
    bytes.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("call_id", "sequence", name="uq_webhook_events_sequence"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    # Increases with each event of one call, in the order they happened.
    sequence: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One attempt to send one event to one webhook.

    A failed attempt that may be retried queues the next attempt as a new row,
    so the rows are the delivery log.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "due_at"),
        Index("ix_webhook_deliveries_log", "webhook_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("webhooks.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("webhook_events.id", ondelete="CASCADE")
    )
    workspace_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    # pending until tried, then succeeded or failed.
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
