"""Add heartbeat_at to jobs: when the worker holding a job last renewed its lease.

Revision ID: 20261204_0005
Revises: 20261204_0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ringline.core.database import UTCDateTime

revision: str = "20261204_0005"
down_revision: str | None = "20261204_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("heartbeat_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("heartbeat_at")
