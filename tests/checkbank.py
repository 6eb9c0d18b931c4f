"""A small checked bank for the integrity and fault tests: 36 merchants, 10 of them failing one rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from expectations.contract import SOURCE_METADATA
from expectations.rulebook import load_suites
from remediation.checks.pipeline import run_suite, validate
from remediation.store.engines import open_store
from remediation.store.models import CheckRun, Todo
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row

SUITES = {s.table: s for s in load_suites()}
BAD_PHONE = "12345678901"
PHONE = "MER-C1-PHONE-FORMAT"


def key(seq: int) -> str:
    return str(merchant_row(seq)["mer_id"])


def bank_merchants() -> list[dict[str, Any]]:
    """30 merchants of 张经理 (M101, 110100), 10 of them with a bad phone; 6 of 吴经理 (M201, 110200)."""
    rows = [merchant_row(i, contact_phone=BAD_PHONE if i <= 10 else "13800138000") for i in range(1, 31)]
    rows += [merchant_row(i, inst_code="110200", mgr_staff_id="M201") for i in range(31, 37)]
    return rows


class Bank:
    def __init__(self, databases: Any) -> None:
        self.source_url = databases.new("source")
        self.source = build_source(self.source_url, bank_merchants(), [customer_row(1)])
        self.store = open_store(databases.new("store"))

    def run(self, day: dt.date = CHECK_DATE, **kw: Any) -> Any:
        return run_suite(source_engine(self.source_url), self.store, SUITES["merchant"], day, **kw)

    def validate(self, day: dt.date = CHECK_DATE) -> int:
        return validate(source_engine(self.source_url), self.store, SUITES["merchant"], day).run_id

    def todos(self) -> dict[str, dict[str, Any]]:
        with self.store.connect() as conn:
            rows = conn.execute(sa.select(Todo.__table__).order_by(Todo.id)).mappings().all()
        return {f"{r['record_key']}:{r['rule_id']}": dict(r) for r in rows}

    def statuses(self) -> dict[str, str]:
        return {k: v["status"] for k, v in self.todos().items()}

    def run_row(self, run_id: int) -> Any:
        with self.store.connect() as conn:
            return conn.execute(sa.select(CheckRun.__table__).where(CheckRun.id == run_id)).one()

    def delete_merchants(self, keep: int) -> None:
        """Keep only the first `keep` merchants in the source (as a truncated extract would)."""
        kept = [key(i) for i in range(1, keep + 1)]
        with self.source.begin() as conn:
            conn.execute(
                sa.text("DELETE FROM merchant WHERE mer_id NOT IN :keys").bindparams(
                    sa.bindparam("keys", expanding=True)
                ),
                {"keys": kept or ["-"]},
            )

    def add_merchants(self, rows: list[dict[str, Any]]) -> None:
        with self.source.begin() as conn:
            conn.execute(sa.insert(SOURCE_METADATA.tables["merchant"]), rows)

    def last_run_id(self) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(CheckRun.id))).scalar_one())

    def count(self, model: Any, *where: Any) -> int:
        with self.store.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)
