"""转派: who among the heads handed a to-do to another account manager

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 18:10:00

`dq_todo.assigned_by` is the head who handed the to-do over (NULL: it follows the source's manager). The
reconcile keeps such a to-do where the head put it while the source's `mgr_staff_id` is unchanged. The
before-image (`dq_todo_before`) keeps it too, so voiding a run puts it back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dq_todo", sa.Column("assigned_by", sa.String(length=20), nullable=True))
    op.add_column("dq_todo_before", sa.Column("assigned_by", sa.String(length=20), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN in place (PostgreSQL, SQLite ≥ 3.35): a batch copy of dq_todo would drop
    # the table that every to-do's events, findings and appeals refer to, which SQLite's foreign keys refuse
    for table in ("dq_todo_before", "dq_todo"):
        op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN assigned_by"))
