"""appeal evidence files (PDF, JPG, PNG) kept in the store

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 18:10:00

One row per file an appellant attached to an appeal (`remediation.workflow.evidence`): its name as
uploaded, its type as its content says, size, SHA-256, the bytes, who and when.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dq_appeal_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=20), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["dq_appeal.id"], name=op.f("fk_dq_appeal_evidence_appeal_id_dq_appeal")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dq_appeal_evidence")),
    )
    op.create_index(
        op.f("ix_dq_appeal_evidence_appeal_id"), "dq_appeal_evidence", ["appeal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dq_appeal_evidence_appeal_id"), table_name="dq_appeal_evidence")
    op.drop_table("dq_appeal_evidence")
