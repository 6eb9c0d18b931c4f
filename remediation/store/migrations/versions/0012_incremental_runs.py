"""incremental check runs: a run's mode, its base run, and what it saw of the source

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 20:00:00

A run is `full` (every record evaluated) or `incremental` (only records that may have changed verdict
since `base_run_id`, `remediation.checks.incremental`). Every run records the source's high-water mark of
`updated_at`, a fingerprint of its rules and reference data and one of the institution and staff tables,
which decide whether the next run may be incremental.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = (
    "mode",
    "base_run_id",
    "mode_reason",
    "source_high_water",
    "rules_fingerprint",
    "org_fingerprint",
    "records_evaluated",
)


def upgrade() -> None:
    op.add_column(
        "dq_check_run", sa.Column("mode", sa.String(length=12), server_default="full", nullable=False)
    )
    op.add_column("dq_check_run", sa.Column("base_run_id", sa.Integer(), nullable=True))
    op.add_column("dq_check_run", sa.Column("mode_reason", sa.String(length=200), nullable=True))
    op.add_column("dq_check_run", sa.Column("source_high_water", sa.DateTime(), nullable=True))
    op.add_column("dq_check_run", sa.Column("rules_fingerprint", sa.String(length=64), nullable=True))
    op.add_column("dq_check_run", sa.Column("org_fingerprint", sa.String(length=64), nullable=True))
    op.add_column("dq_check_run", sa.Column("records_evaluated", sa.Integer(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("dq_check_run", name)
