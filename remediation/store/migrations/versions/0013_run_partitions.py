"""the key ranges of a partitioned check run, each with what its extract task staged

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 20:10:00

The check DAG may split a table into key ranges that run as mapped Airflow tasks
(`remediation.checks.partitions`). Each range's task stages its findings and, in the same transaction,
writes its row here: the range, the failing records it read and its count per rule (JSON). The finish
task sums the rows; a range that has its row is done, so a retried task stages nothing twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dq_run_partition",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("lo", sa.String(length=64), nullable=True),
        sa.Column("hi", sa.String(length=64), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("per_rule", sa.Text(), nullable=False),
        sa.Column("staged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["dq_check_run.id"],
            name=op.f("fk_dq_run_partition_run_id_dq_check_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "part", name=op.f("pk_dq_run_partition")),
    )


def downgrade() -> None:
    op.drop_table("dq_run_partition")
