"""Add what call logs need: analysis results, their indexes and full-text search.

Revision ID: 20261204_0003
Revises: 20261204_0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ringline.core.database import JSONDocument

revision: str = "20261204_0003"
down_revision: str | None = "20261204_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINAL_STATUSES = (
    "'completed', 'did_not_pick', 'no_answer', 'busy', 'failed', 'cancelled', "
    "'retry_expired'"
)

# SQLite: an FTS5 index over the transcript and summary of calls, kept in step
# by triggers. A call is indexed when it has either text, so the triggers only
# remove what they added.
# NOTE: the index refers to calls by their implicit rowid, which SQLite documents
# that VACUUM may renumber (3.40 kept them when tried). After such a change,
# INSERT INTO call_search(call_search) VALUES('rebuild') rebuilds the index.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE call_search USING fts5("
    "transcript, summary, content='calls', content_rowid='rowid')",
    "CREATE TRIGGER call_search_insert AFTER INSERT ON calls "
    "WHEN new.transcript IS NOT NULL OR new.summary IS NOT NULL BEGIN "
    "INSERT INTO call_search(rowid, transcript, summary) "
    "VALUES (new.rowid, new.transcript, new.summary); END",
    "CREATE TRIGGER call_search_delete AFTER DELETE ON calls "
    "WHEN old.transcript IS NOT NULL OR old.summary IS NOT NULL BEGIN "
    "INSERT INTO call_search(call_search, rowid, transcript, summary) "
    "VALUES ('delete', old.rowid, old.transcript, old.summary); END",
    "CREATE TRIGGER call_search_update AFTER UPDATE OF transcript, summary "
    "ON calls BEGIN "
    "INSERT INTO call_search(call_search, rowid, transcript, summary) "
    "SELECT 'delete', old.rowid, old.transcript, old.summary "
    "WHERE old.transcript IS NOT NULL OR old.summary IS NOT NULL; "
    "INSERT INTO call_search(rowid, transcript, summary) "
    "SELECT new.rowid, new.transcript, new.summary "
    "WHERE new.transcript IS NOT NULL OR new.summary IS NOT NULL; END",
    "INSERT INTO call_search(rowid, transcript, summary) "
    "SELECT rowid, transcript, summary FROM calls "
    "WHERE transcript IS NOT NULL OR summary IS NOT NULL",
]

# PostgreSQL: a generated tsvector of both texts with a GIN index. The 'simple'
# configuration lowercases without stemming, as SQLite's default tokenizer does.
POSTGRES_SEARCH = [
    "ALTER TABLE calls ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', coalesce(transcript, '') || ' ' || "
    "coalesce(summary, ''))) STORED",
    "CREATE INDEX ix_calls_search ON calls USING gin (search_vector)",
]


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("sentiment", sa.String(16), nullable=True))
        batch.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch.add_column(sa.Column("analysis", JSONDocument(), nullable=True))
        batch.add_column(
            sa.Column(
                "analysis_status",
                sa.String(16),
                nullable=False,
                server_default="pending",
            )
        )
        batch.add_column(sa.Column("latency_ms", sa.Integer(), nullable=True))

    # Calls that ended before this version: those never answered have nothing
    # to analyse, and the answered ones are queued for analysis.
    op.execute(
        "UPDATE calls SET analysis_status = 'not_applicable' "
        f"WHERE answered_at IS NULL AND status IN ({FINAL_STATUSES})"
    )
    op.execute(
        "INSERT INTO jobs (kind, workspace_id, call_id, attempt, due_at, created_at) "
        "SELECT 'analyze', workspace_id, id, 1, ended_at, ended_at FROM calls "
        f"WHERE answered_at IS NOT NULL AND status IN ({FINAL_STATUSES})"
    )

    list_order = [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")]
    op.create_index(
        "ix_calls_sentiment", "calls", ["workspace_id", "sentiment", *list_order]
    )
    op.create_index(
        "ix_calls_duration_desc",
        "calls",
        [
            "workspace_id",
            sa.literal_column("coalesce(duration_ms, -1) DESC"),
            *list_order,
        ],
    )
    op.create_index(
        "ix_calls_duration_asc",
        "calls",
        [
            "workspace_id",
            sa.literal_column(f"coalesce(duration_ms, {2**62})"),
            "created_at",
            "id",
        ],
    )

    statements = SQLITE_SEARCH if op.get_context().dialect.name == "sqlite" else []
    if op.get_context().dialect.name == "postgresql":
        statements = POSTGRES_SEARCH
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER call_search_{trigger}")
        op.execute("DROP TABLE call_search")
    else:
        op.execute("DROP INDEX ix_calls_search")
        op.execute("ALTER TABLE calls DROP COLUMN search_vector")
    for name in (
        "ix_calls_duration_asc",
        "ix_calls_duration_desc",
        "ix_calls_sentiment",
    ):
        op.drop_index(name, "calls")
    op.execute("DELETE FROM jobs WHERE kind = 'analyze'")
    with op.batch_alter_table("calls") as batch:
        for column in ("latency_ms", "analysis_status", "analysis", "summary"):
            batch.drop_column(column)
        batch.drop_column("sentiment")
