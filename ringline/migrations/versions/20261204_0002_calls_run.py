"""Add what placing calls needs: workspace call settings, idempotency keys, the
call event log and the job queue.

Revision ID: 20261204_0002
Revises: 20261204_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ringline.core.database import JSONDocument, UTCDateTime

revision: str = "20261204_0002"
down_revision: str | None = "20261204_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("from_phone_number", sa.String(20), nullable=True))
        batch.add_column(sa.Column("enabled_countries", JSONDocument(), nullable=True))
        batch.add_column(
            sa.Column(
                "concurrency_limit", sa.Integer(), nullable=False, server_default="10"
            )
        )

    with op.batch_alter_table("calls") as batch:
        batch.add_column(
            sa.Column("transcript_segments", JSONDocument(), nullable=True)
        )

    op.create_table(
        "idempotency_keys",
        sa.Column("workspace_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )

    op.create_table(
        "call_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "call_id",
            sa.String(64),
            sa.ForeignKey("calls.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_call_events_call", "call_events", ["call_id", "occurred_at"])

    op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("locked_by", sa.String(64), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        # At most one job of a kind per call attempt: a second queueing of the same
        # attempt fails instead of dialing twice.
        sa.UniqueConstraint("kind", "call_id", "attempt", name="uq_jobs_attempt"),
    )
    op.create_index("ix_jobs_due", "jobs", ["kind", "due_at"])
    op.create_index("ix_jobs_workspace", "jobs", ["workspace_id", "kind"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("call_events")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("transcript_segments")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("concurrency_limit")
        batch.drop_column("enabled_countries")
        batch.drop_column("from_phone_number")
