"""keyed value hashes (HMAC key chain) and natural persons' names masked in stored values

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00

Every stored value hash was a plain SHA-256 of the rule's values. It becomes HMAC(K, that digest) with
the key chain of this process (`remediation.store.hashkey`, generated into DQGOV_HASH_KEY_FILE if need be), which
is exactly what `masking.value_hash` now computes for the same values: exemptions granted before the
upgrade keep holding, and no plain digest is left. The chain's key ids are recorded in `dq_hash_key`.

Names stored in clear before names were masked by record type (a micro merchant's `mer_reg_name`, a
personal account's `settle_acct_name`) are masked: in to-dos and findings by the types the stored value
shows (none shown: masked), in corrections, and in messages (always masked: they show no type).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from remediation.masking import is_person_name, mask_name, remask_summary, remask_text
from remediation.store.hashkey import load_chain
from remediation.store.hashstore import register, rewrite_hashes

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 2000
NAME_COLUMNS = ("mer_reg_name", "settle_acct_name")


def upgrade() -> None:
    op.create_table(
        "dq_hash_key",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_dq_hash_key")),
    )
    conn = op.get_bind()
    chain = load_chain(create=True)
    rewrite_hashes(conn, chain.keys)
    register(conn, chain.ids)
    for table, keys in (
        ("dq_todo", ("id",)),
        ("dq_todo_before", ("run_id", "todo_id")),
        ("dq_finding", ("run_id", "rule_id", "record_key")),
    ):
        _remask(conn, table, keys, "masked_value", remask_summary)
    _remask(conn, "dq_correction", ("id",), "changes", _remask_changes)
    _remask(conn, "dq_outbox", ("id",), "body", remask_text)
    _remask(conn, "dq_inbox", ("id",), "body", remask_text)


def downgrade() -> None:
    # The hashes stay keyed: a digest cannot be turned back into the plain one (nor a masked name into
    # the name). Code before 0006 would lapse every exemption at the next run.
    op.drop_table("dq_hash_key")


def _remask_changes(text: str) -> str:
    try:
        changes = json.loads(text)
    except ValueError:
        return remask_text(text)
    if not isinstance(changes, dict):
        return text
    masked = {
        c: mask_name(v) if isinstance(v, str) and is_person_name(c, changes) else v
        for c, v in changes.items()
    }
    return json.dumps(masked, ensure_ascii=False)


def _remask(
    conn: sa.Connection, name: str, keys: Sequence[str], column: str, remask: Callable[[str], str]
) -> None:
    """Rewrite `column` of every row that mentions a name column, batch by batch in key order."""
    table = sa.table(name, *(sa.column(k) for k in keys), sa.column(column, sa.Text))
    key_cols = [table.c[k] for k in keys]
    mentions = sa.or_(*(table.c[column].contains(c, autoescape=True) for c in NAME_COLUMNS))
    last: tuple[object, ...] | None = None
    while True:
        after = sa.tuple_(*key_cols) > sa.tuple_(*last) if last is not None else sa.true()
        rows = conn.execute(
            sa.select(*key_cols, table.c[column]).where(mentions, after).order_by(*key_cols).limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            old = row[-1]
            new = remask(old)
            if new != old:
                match = sa.and_(*(c == v for c, v in zip(key_cols, row[:-1], strict=True)))
                conn.execute(sa.update(table).where(match).values({column: new}))
        last = tuple(rows[-1][:-1])
