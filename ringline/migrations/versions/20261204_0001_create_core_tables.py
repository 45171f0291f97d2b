"""Create workspaces, API keys, agents with versions, and calls.

Revision ID: 20261204_0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ringline.core.database import JSONDocument, UTCDateTime

revision: str = "20261204_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CALL_LIST_INDEXES = {
    "ix_calls_list": [],
    "ix_calls_agent": ["agent_id"],
    "ix_calls_status": ["status"],
    "ix_calls_batch": ["batch_call_id"],
    "ix_calls_end_reason": ["end_reason"],
    "ix_calls_to_number": ["to_phone_number"],
    "ix_calls_from_number": ["from_phone_number"],
}


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        _timestamp("created_at"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(14), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.String(64),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("permissions", JSONDocument(), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        _timestamp("last_used_at", nullable=True),
    )
    op.create_index("ix_api_keys_workspace", "api_keys", ["workspace_id"])

    op.create_table(
        "agents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.String(64),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(100), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("deleted_at", nullable=True),
    )
    op.create_index(
        "ix_agents_workspace_created", "agents", ["workspace_id", "created_at"]
    )
    op.create_table(
        "agent_versions",
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey("agents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version_number", sa.Integer(), primary_key=True),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        _timestamp("published_at", nullable=True),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("welcome_message", sa.Text(), nullable=True),
        sa.Column("prompt_text", sa.Text(), nullable=True),
        sa.Column("language_id", sa.String(35), nullable=False),
        sa.Column("voice_id", sa.String(100), nullable=True),
        sa.Column("from_phone_number", sa.String(20), nullable=True),
        sa.Column("max_call_duration_sec", sa.Integer(), nullable=False),
        sa.Column("end_call_on_silence_sec", sa.Integer(), nullable=False),
        sa.Column("default_dynamic_variables", JSONDocument(), nullable=False),
        sa.Column("post_call_analysis", JSONDocument(), nullable=False),
        _timestamp("created_at"),
    )

    op.create_table(
        "calls",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.String(64),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("agent_version_number", sa.Integer(), nullable=False),
        sa.Column("batch_call_id", sa.String(64), nullable=True),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("call_direction", sa.String(8), nullable=False),
        sa.Column("from_phone_number", sa.String(20), nullable=False),
        sa.Column("to_phone_number", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("recording_path", sa.Text(), nullable=True),
        sa.Column("metadata", JSONDocument(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=True),
        _timestamp("scheduled_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("initiated_at", nullable=True),
        _timestamp("answered_at", nullable=True),
        _timestamp("ended_at", nullable=True),
    )
    # Each index ends in the list order (created_at DESC, id DESC) so that a
    # filtered page is read straight off the index without a sort.
    for name, columns in CALL_LIST_INDEXES.items():
        op.create_index(
            name,
            "calls",
            [
                "workspace_id",
                *columns,
                sa.literal_column("created_at DESC"),
                sa.literal_column("id DESC"),
            ],
        )


def downgrade() -> None:
    op.drop_table("calls")
    op.drop_table("agent_versions")
    op.drop_table("agents")
    op.drop_table("api_keys")
    op.drop_table("workspaces")
