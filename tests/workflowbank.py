"""A small checked bank for the appeal and verification tests, and ways to look at the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.checks.pipeline import RunSummary, run_suite
from remediation.store.engines import open_store
from remediation.store.models import Base, Todo, TodoEvent
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, build_source, merchant_row, uscc

SUITES = {s.table: s for s in load_suites()}
BAD_PHONE = "12345678901"  # C1: not a mobile number (1[3-9]…) nor a landline
GOOD_PHONE = "13800138000"


def key(seq: int) -> str:
    return merchant_row(seq)["mer_id"]


@dataclass
class Bank:
    source_url: str
    source: sa.Engine
    store: sa.Engine

    def run(self, day: dt.date = CHECK_DATE) -> RunSummary:
        return run_suite(source_engine(self.source_url), self.store, SUITES["merchant"], day)

    def todo(self, seq: int, rule_id: str) -> dict[str, Any]:
        with self.store.connect() as conn:
            row = conn.execute(
                sa.select(Todo.__table__).where(Todo.record_key == key(seq), Todo.rule_id == rule_id)
            ).one()
        return dict(row._mapping)

    def todo_id(self, seq: int, rule_id: str) -> int:
        return int(self.todo(seq, rule_id)["id"])

    def events(self, todo_id: int) -> list[tuple[str, str, str | None, str | None]]:
        """(event, actor, from, to) of a to-do, in order."""
        with self.store.connect() as conn:
            rows = conn.execute(
                sa.select(TodoEvent.event, TodoEvent.actor, TodoEvent.from_status, TodoEvent.to_status)
                .where(TodoEvent.todo_id == todo_id)
                .order_by(TodoEvent.id)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every store table: equal dumps mean an unchanged store."""
        with self.store.connect() as conn:
            return {
                t.name: sorted((tuple(r) for r in conn.execute(sa.select(t))), key=repr)
                for t in Base.metadata.sorted_tables
            }


def build_bank(databases: Databases) -> Bank:
    """Merchants 1-6, checked once on CHECK_DATE.

    1 valid; 2 bad phone (M101, 110100); 3 bad phone and an expired licence (M101); 4 bad phone at
    sub-branch 110200 (M201; its head S201 is inactive); 5 no manager at 110100 (→ head S101);
    6 no manager at branch 110000 (→ branch head B001).
    """
    merchants = [merchant_row(i, uscc=uscc("91", f"360402MA{i:06d}0")) for i in range(1, 7)]
    merchants[1]["contact_phone"] = BAD_PHONE
    merchants[2].update(contact_phone=BAD_PHONE, licence_end=dt.date(2026, 1, 1))
    merchants[3].update(inst_code="110200", mgr_staff_id="M201", contact_phone=BAD_PHONE)
    merchants[4]["mgr_staff_id"] = None
    merchants[5].update(inst_code="110000", mgr_staff_id=None)
    source_url = databases.new("source")
    bank = Bank(source_url, build_source(source_url, merchants), open_store(databases.new("store")))
    bank.run()
    return bank


def aware(at: dt.datetime) -> dt.datetime:
    """SQLite gives back naive UTC datetimes, PostgreSQL aware ones."""
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
