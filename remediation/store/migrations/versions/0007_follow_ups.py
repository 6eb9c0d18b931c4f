"""follow-ups: the snapshot and the reminders each reconciled check date still needs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00

A reconciled check run records (day, kind) for `snapshot` and `remind`; dq_snapshot and dq_notify mark them
done. While those DAGs are paused Airflow drops the asset events, so the record is what they catch up on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dq_follow_up",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("day", "kind", name=op.f("pk_dq_follow_up")),
    )


def downgrade() -> None:
    op.drop_table("dq_follow_up")
