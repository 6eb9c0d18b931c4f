"""to-do workbook imports (which rows of which issued workbook were applied) and OA unified to-dos

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30 17:00:00

One row per (issued workbook, to-do) whose correction was applied, so importing the same file again
applies nothing twice (`remediation.workbooks.apply`). One row per (campaign, person) for the OA
system's unified to-do, as last queued (`remediation.notify.oa_todo`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dq_workbook_import",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_id", sa.String(length=36), nullable=False),
        sa.Column("todo_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=20), nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["todo_id"], ["dq_todo.id"], name=op.f("fk_dq_workbook_import_todo_id_dq_todo")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dq_workbook_import")),
        sa.UniqueConstraint("issue_id", "todo_id", name=op.f("uq_dq_workbook_import_issue_id_todo_id")),
    )

    op.create_table(
        "dq_oa_todo",
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column("staff_id", sa.String(length=20), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("due_soon_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("external_id", name=op.f("pk_dq_oa_todo")),
    )


def downgrade() -> None:
    op.drop_table("dq_oa_todo")
    op.drop_table("dq_workbook_import")
