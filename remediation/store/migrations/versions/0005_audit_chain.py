"""audit log: hash chain and append-only triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00

Existing entries are chained in id order; then dq_audit refuses UPDATE and DELETE (and TRUNCATE on
PostgreSQL). The hash encoding is written out here, frozen: `remediation.auditchain.entry_hash` must give
the same digests (tests/remediation/test_audit.py migrates a store holding entries and verifies it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
PAGE = 1000

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION dq_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'dq_audit is append-only: ' || TG_OP || ' is refused';
END
$$
"""
_PG_TRIGGERS = (
    "CREATE TRIGGER dq_audit_no_change BEFORE UPDATE OR DELETE ON dq_audit "
    "FOR EACH ROW EXECUTE FUNCTION dq_audit_append_only()",
    "CREATE TRIGGER dq_audit_no_truncate BEFORE TRUNCATE ON dq_audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION dq_audit_append_only()",
)
_SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER dq_audit_no_{op_name.lower()} BEFORE {op_name} ON dq_audit "
    f"BEGIN SELECT RAISE(ABORT, 'dq_audit is append-only: {op_name} is refused'); END"
    for op_name in ("UPDATE", "DELETE")
)


def _utc_iso(at: dt.datetime) -> str:
    aware = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return aware.isoformat(timespec="microseconds")


def _hash(row: sa.Row[tuple[object, ...]], prev_hash: str) -> str:
    fields = [
        "dq_audit/1",
        row.id,
        _utc_iso(row.at),
        row.staff_id,
        row.action,
        row.table_name,
        row.record_key,
        row.detail,
        row.client,
        prev_hash,
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _chain_existing(conn: sa.Connection) -> None:
    text_columns = (
        "staff_id",
        "action",
        "table_name",
        "record_key",
        "detail",
        "client",
        "prev_hash",
        "row_hash",
    )
    audit = sa.table(
        "dq_audit",
        sa.column("id"),
        sa.column("at", sa.DateTime(timezone=True)),
        *(sa.column(name) for name in text_columns),
    )
    prev_hash, after = GENESIS, 0
    while True:
        page = conn.execute(sa.select(audit).where(audit.c.id > after).order_by(audit.c.id).limit(PAGE)).all()
        for row in page:
            row_hash = _hash(row, prev_hash)
            conn.execute(
                sa.update(audit).where(audit.c.id == row.id).values(prev_hash=prev_hash, row_hash=row_hash)
            )
            prev_hash = row_hash
        if len(page) < PAGE:
            return
        after = page[-1].id


def upgrade() -> None:
    with op.batch_alter_table("dq_audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    _chain_existing(conn)
    with op.batch_alter_table("dq_audit", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_dq_audit_prev_hash"), ["prev_hash"])
    if conn.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS dq_audit_no_change ON dq_audit")
        op.execute("DROP TRIGGER IF EXISTS dq_audit_no_truncate ON dq_audit")
        op.execute("DROP FUNCTION IF EXISTS dq_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS dq_audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS dq_audit_no_delete")
    with op.batch_alter_table("dq_audit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_dq_audit_prev_hash"), type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
