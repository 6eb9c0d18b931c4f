"""Source defects in the record key: rows without a key, and keys shared by several rows.

Such rows cannot be told apart, so they never become to-dos (no `None` to-do), the to-dos already keyed
by a shared key are left exactly as they are by the run (nothing opens, closes or moves), and the
write-back and the record page refuse an ambiguous key. The run records the defects
(`dq_check_run.source_defects`, `dq_duplicate_key`) and the data office is alerted.
A table where more than `MAX_DUPLICATE_KEYS` keys are shared is a broken extract: the run fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa

from expectations.rulebook import Suite
from remediation.clock import now
from remediation.errors import SourceError
from remediation.notify.alerts import alert_data_office
from remediation.store.bulk import Appender
from remediation.store.models import DuplicateKey

MAX_DUPLICATE_KEYS = 100_000
SAMPLE = 10
BATCH = 5000


@dataclass(frozen=True)
class KeyDefects:
    key_column: str
    null_keys: int = 0  # rows without a key
    duplicate_keys: frozenset[str] = frozenset()  # keys used by more than one row
    duplicate_rows: int = 0

    def __bool__(self) -> bool:
        return bool(self.null_keys or self.duplicate_keys)

    @property
    def sample(self) -> list[str]:
        return sorted(self.duplicate_keys)[:SAMPLE]

    def as_json(self) -> str:
        return json.dumps(
            {
                "key_column": self.key_column,
                "null_keys": self.null_keys,
                "duplicate_keys": len(self.duplicate_keys),
                "duplicate_rows": self.duplicate_rows,
                "sample": self.sample,
            },
            ensure_ascii=False,
        )

    def describe(self) -> str:
        parts = []
        if self.null_keys:
            parts.append(f"{self.null_keys} row(s) without {self.key_column}")
        if self.duplicate_keys:
            parts.append(
                f"{len(self.duplicate_keys)} value(s) of {self.key_column} used by {self.duplicate_rows} rows "
                f"(e.g. {', '.join(self.sample[:3])})"
            )
        return "; ".join(parts)


def find_key_defects(source: sa.Engine, store: sa.Engine, suite: Suite, run_id: int) -> KeyDefects:
    """Count rows without a key and stage the keys shared by several rows under the run."""
    key: sa.ColumnClause[str] = sa.column(suite.key)
    table = sa.table(suite.table, key)
    shared = (
        sa.select(key, sa.func.count().label("rows"))
        .select_from(table)
        .where(key.is_not(None))
        .group_by(key)
        .having(sa.func.count() > 1)
    )
    keys: set[str] = set()  # at most MAX_DUPLICATE_KEYS: the extractor skips them
    rows = 0
    staged = Appender(store, DuplicateKey, ("run_id", "record_key", "rows"), BATCH)
    with source.connect() as conn, staged:
        nulls = int(conn.scalar(sa.select(sa.func.count()).select_from(table).where(key.is_(None))) or 0)
        for value, count in conn.execution_options(stream_results=True, yield_per=BATCH).execute(shared):
            keys.add(str(value))
            rows += int(count)
            if len(keys) > MAX_DUPLICATE_KEYS:
                raise SourceError(
                    f"source table {suite.table!r}: more than {MAX_DUPLICATE_KEYS:,} values of {suite.key} are "
                    "used by more than one row; the extract is broken (fix it, then run the check again)"
                )
            staged.add((run_id, str(value), int(count)))
    return KeyDefects(suite.key, nulls, frozenset(keys), rows)


def alert_key_defects(conn: sa.Connection, table: str, run_id: int, day: object, defects: KeyDefects) -> None:
    """Tell the data office, once per table and check date (re-running the date alerts no one again)."""
    body = (
        f"源数据缺陷：{table} 检查运行 {run_id}（检查日 {day}）发现主键缺失或重复，相关记录暂不生成、不关闭待办，"
        f"请源系统修正。\nSource defects in {table} (run {run_id}, check date {day}): {defects.describe()}. "
        "These rows raise no to-do and their to-dos stay as they are until the source is fixed."
    )
    alert_data_office(
        conn, f"key-defects:{table}:{day}", f"源数据缺陷 · source defects: {table}", body, now()
    )
