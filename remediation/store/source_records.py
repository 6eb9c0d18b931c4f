"""One record of a source table, found by its key, refusing a key that more than one row shares.

A source table need not enforce its primary key (a view, an extract, a table without the constraint).
When two rows share a key, the record is ambiguous: showing or correcting "the" row could show one
account manager's row to another, or write to both. Callers refuse it with `AmbiguousKey`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from expectations.contract import PRIMARY_KEYS, RECORD_TABLES
from remediation.errors import AmbiguousKey
from remediation.workflow.actions import reading


def _key(table: str) -> sa.ColumnClause[Any]:
    return sa.column(PRIMARY_KEYS[table])


def record_rows(source: sa.Engine | sa.Connection, table: str, record_key: str) -> int:
    """How many rows of `table` in the source carry `record_key` (1 for a sound record)."""
    with reading(source) as conn:
        count = conn.scalar(
            sa.select(sa.func.count()).select_from(sa.table(table)).where(_key(table) == record_key)
        )
    return int(count or 0)


def read_record(source: sa.Engine | sa.Connection, table: str, record_key: str) -> dict[str, Any] | None:
    """The record's current row in the source, every contract column; None when it is gone.

    Raises `AmbiguousKey` when more than one row carries the key.
    """
    contract = RECORD_TABLES[table]
    with reading(source) as conn:
        rows = conn.execute(
            sa.select(*(sa.column(c.name, c.type) for c in contract.c))
            .select_from(sa.table(table))
            .where(_key(table) == record_key)
            .limit(2)
        ).all()
        if len(rows) > 1:
            raise AmbiguousKey(table, record_key, record_rows(conn, table, record_key))
    return dict(rows[0]._mapping) if rows else None


# the columns a person searches a record by, per table
NAME_COLUMNS = {"merchant": ("mer_reg_name", "mer_biz_name"), "customer_org": ("cust_name",)}


def keys_by_name(source: sa.Engine | sa.Connection, text: str, limit: int = 1000) -> frozenset[str]:
    """Keys of the records whose name contains `text` (registered or trading name), in every table."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found: set[str] = set()
    with reading(source) as conn:
        for table, columns in NAME_COLUMNS.items():
            where = sa.or_(*(sa.column(c, sa.String).like(pattern, escape="\\") for c in columns))
            found |= {
                str(k)
                for k in conn.scalars(
                    sa.select(_key(table)).select_from(sa.table(table)).where(where).limit(limit)
                )
            }
    return frozenset(found)
