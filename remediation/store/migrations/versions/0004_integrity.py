"""integrity: run ownership and leases, volume guard, source defects, before-images for voiding a run

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RUN_COLUMNS = (
    sa.Column("gone", sa.Integer(), server_default="0", nullable=False),
    sa.Column("owner", sa.String(length=120), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("guard", sa.Text(), nullable=True),
    sa.Column("accepted_by", sa.String(length=20), nullable=True),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("source_defects", sa.Text(), nullable=True),
    sa.Column("voided_by", sa.String(length=20), nullable=True),
    sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table("dq_check_run", schema=None) as batch_op:
        for column in RUN_COLUMNS:
            batch_op.add_column(column.copy())
    with op.batch_alter_table("dq_record_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=True))
    with op.batch_alter_table("dq_exemption", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_by_run_id", sa.Integer(), nullable=True))

    op.create_table(
        "dq_run_volume",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("inst_code", sa.String(length=20), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["dq_check_run.id"],
            name=op.f("fk_dq_run_volume_run_id_dq_check_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "inst_code", name=op.f("pk_dq_run_volume")),
    )
    op.create_table(
        "dq_duplicate_key",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["dq_check_run.id"],
            name=op.f("fk_dq_duplicate_key_run_id_dq_check_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "record_key", name=op.f("pk_dq_duplicate_key")),
    )
    op.create_table(
        "dq_todo_before",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("todo_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("inst_code", sa.String(length=20), nullable=True),
        sa.Column("mgr_staff_id", sa.String(length=20), nullable=True),
        sa.Column("assignee_staff_id", sa.String(length=20), nullable=True),
        sa.Column("routed_to_head", sa.Boolean(), nullable=False),
        sa.Column("masked_value", sa.String(length=300), nullable=True),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("opened_run_id", sa.Integer(), nullable=False),
        sa.Column("transition_run_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("card", sa.String(length=10), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "todo_id", name=op.f("pk_dq_todo_before")),
    )
    op.create_table(
        "dq_table_lock",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_dq_table_lock")),
    )


def downgrade() -> None:
    op.drop_table("dq_table_lock")
    op.drop_table("dq_todo_before")
    op.drop_table("dq_duplicate_key")
    op.drop_table("dq_run_volume")
    with op.batch_alter_table("dq_exemption", schema=None) as batch_op:
        batch_op.drop_column("ended_by_run_id")
    with op.batch_alter_table("dq_record_state", schema=None) as batch_op:
        batch_op.drop_column("state")
    with op.batch_alter_table("dq_check_run", schema=None) as batch_op:
        for column in reversed(RUN_COLUMNS):
            batch_op.drop_column(column.name)
