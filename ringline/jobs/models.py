from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringline.core.database import Base, UTCDateTime


class Job(Base):
    """Background work about one call, due at a time, claimed by one worker.

    A job is written in the same transaction as the call change it is about, so
    committed work is never lost; the lock expires if its worker dies.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("kind", "call_id", "attempt", name="uq_jobs_attempt"),
        Index("ix_jobs_due", "kind", "due_at"),
        Index("ix_jobs_workspace", "workspace_id", "kind"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    kind: Mapped[str] = mapped_column(String(32))
    workspace_id: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the worker holding the job claimed it or last renewed its lease, which
    # is the last moment that worker is known to have been running it.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
