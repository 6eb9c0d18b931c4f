"""Incremental runs give the to-dos and snapshots a full run gives, on SQLite and PostgreSQL.

One demo bank, three stores checked in full on day 1. The source then changes (fixes, new defects, a USCC
made duplicate and one un-duplicated by a closed and by a deleted record, a deleted merchant, expiries
crossed by time alone); store A runs incrementally, store C incrementally in three key ranges (the check
DAG's prepare, extract and finish), store B in full, and all must agree on every to-do.
Then a staff member leaves: the incremental run falls back to full, and the stores still agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.compiler import source_columns
from expectations.contract import customer_org, merchant, staff
from expectations.kinds import KINDS, CheckContext
from expectations.rulebook import load_suites
from expectations.runner import failing_records
from remediation.checks.incremental import TIME_BOUNDARIES, plan_run
from remediation.checks.partitions import validate_partitioned
from remediation.checks.pipeline import RunSummary, ValidateSummary, run_checks
from remediation.checks.reconcile.run import reconcile_run
from remediation.checks.routing import sync_org
from remediation.checks.voiding import void_run
from remediation.demobank import DemoBankSpec, generate_demo_bank
from remediation.lifecycle import Lifecycle
from remediation.reporting.snapshots import take_snapshot
from remediation.settings import WEEKDAYS
from remediation.store.engines import open_store
from remediation.store.models import CheckRun, Todo
from remediation.store.workflow_models import Snapshot, SnapshotRecords
from tests import checkbank
from tests.checkbank import Bank
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, update_record

SUITES = load_suites()
BY_TABLE = {s.table: s for s in SUITES}
DAY1 = dt.date(2026, 11, 2)
DAY2 = DAY1 + dt.timedelta(days=3)  # licences and IDs ending on DAY1 + 1 have expired by now
DAY3 = DAY2 + dt.timedelta(days=1)
TODO_FIELDS = (
    "status",
    "assignee_staff_id",
    "routed_to_head",
    "due_date",
    "first_seen",
    "last_seen",
    "closed_on",
    "reopen_count",
    "masked_value",
    "inst_code",
    "mgr_staff_id",
    "card",
)
UNIQUE = "CUS-E4-USCC-UNIQUE"


class Twins:
    """One source, store A checked incrementally, store B in full."""

    def __init__(self, databases: Databases) -> None:
        url = databases.new("source")
        self.source = source_engine(url)
        generate_demo_bank(self.source, DemoBankSpec(merchants=300, customers=150, seed=7, check_date=DAY1))
        self.a = open_store(databases.new("a"))
        self.b = open_store(databases.new("b"))
        self.c = open_store(databases.new("c"))

    def run(self, day: dt.date, mode_a: str) -> tuple[list[RunSummary], list[RunSummary]]:
        a = list(run_checks(self.source, self.a, SUITES, day, mode=mode_a))
        b = list(run_checks(self.source, self.b, SUITES, day, mode="full"))
        c = self.run_in_ranges(day, mode_a)
        assert [s.mode for s in c] == [s.validation.mode for s in a]
        for store in (self.a, self.b, self.c):
            take_snapshot(store, day)
        return a, b

    def run_in_ranges(self, day: dt.date, mode: str) -> list[ValidateSummary]:
        sync_org(self.source, self.c)
        validated = [validate_partitioned(self.source, self.c, s, day, 3, mode=mode) for s in SUITES]
        for summary in validated:
            reconcile_run(self.c, summary.run_id, Lifecycle.in_force())
        return validated

    def keys(self, table: sa.Table, *where: Any, limit: int = 10) -> list[str]:
        key = table.c[0]
        with self.source.connect() as conn:
            return [str(k) for k in conn.scalars(sa.select(key).where(*where).order_by(key).limit(limit))]

    def change(self, table: sa.Table, key: str, day: dt.date | None, **values: Any) -> None:
        if day is not None:
            values["updated_at"] = dt.datetime.combine(day, dt.time(9, 0))
        with self.source.begin() as conn:
            assert conn.execute(sa.update(table).where(table.c[0] == key).values(**values)).rowcount == 1

    def delete(self, table: sa.Table, key: str) -> None:
        with self.source.begin() as conn:
            conn.execute(sa.delete(table).where(table.c[0] == key))


def todos(store: sa.Engine) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    with store.connect() as conn:
        rows = conn.execute(sa.select(Todo.__table__)).mappings().all()
    return {(r["table_name"], r["record_key"], r["rule_id"]): tuple(r[f] for f in TODO_FIELDS) for r in rows}


def snapshots(store: sa.Engine) -> list[tuple[Any, ...]]:
    with store.connect() as conn:
        rows = [tuple(r) for model in (Snapshot, SnapshotRecords) for r in conn.execute(sa.select(model))]
    return sorted(rows, key=repr)


def status_of(store: sa.Engine, table: str, key: str, rule_id: str) -> str | None:
    return todos(store).get((table, key, rule_id), (None,))[0]


def todo_keys(store: sa.Engine, table: str, *where: Any) -> set[str]:
    with store.connect() as conn:
        return set(conn.scalars(sa.select(Todo.record_key).where(Todo.table_name == table, *where)))


def assert_same(twins: Twins) -> None:
    a, b = todos(twins.a), todos(twins.b)
    assert {k: v for k, v in a.items() if b.get(k) != v} == {k: v for k, v in b.items() if a.get(k) != v}
    assert a == b
    assert snapshots(twins.a) == snapshots(twins.b)
    assert todos(twins.c) == b
    assert snapshots(twins.c) == snapshots(twins.b)


@pytest.fixture
def twins(databases: Databases) -> Twins:
    return Twins(databases)


@pytest.mark.slow
def test_incremental_run_gives_the_full_runs_todos(twins: Twins) -> None:
    # before day 1: two pairs of customers sharing a USCC, and records that expire the day after day 1
    clean_cust = sorted(
        set(twins.keys(customer_org, customer_org.c.status == "active", limit=150))
        - failing(twins, "customer_org")
    )
    c = clean_cust[:6]
    for holder, twin in ((c[0], c[1]), (c[2], c[3])):
        with twins.source.connect() as conn:
            value = conn.scalar(sa.select(customer_org.c.uscc).where(customer_org.c.cust_no == holder))
        twins.change(customer_org, twin, None, uscc=value)
    expiring = DAY1 + dt.timedelta(days=1)
    m_exp = twins.keys(merchant, merchant.c.status == "active", merchant.c.licence_end.is_not(None))[-1]
    twins.change(merchant, m_exp, None, licence_end=expiring)
    twins.change(customer_org, c[5], None, legal_rep_id_end=expiring)

    first_a, _ = twins.run(DAY1, "incremental")
    assert {s.validation.mode for s in first_a} == {"full"}  # nothing to build on yet
    assert status_of(twins.a, "customer_org", c[0], UNIQUE) == "open"
    assert_same(twins)

    # day 2: about 3 % of the records change
    phone_fails = sorted(
        todo_keys(twins.a, "merchant", Todo.rule_id == "MER-C1-PHONE-FORMAT", Todo.status == "open")
    )
    fixed = phone_fails[:3]
    for key in fixed:
        twins.change(merchant, key, DAY2, contact_phone="13800138000")
    clean_mer = [
        k
        for k in twins.keys(merchant, merchant.c.status == "active", limit=300)
        if k not in todo_keys(twins.a, "merchant") and k != m_exp
    ]
    broken = clean_mer[:3]
    for key in broken:
        twins.change(merchant, key, DAY2, contact_phone="123")
    twins.change(customer_org, clean_cust[6], DAY2, uscc=_uscc_of(twins, c[4]))  # c[4] becomes a duplicate
    twins.change(customer_org, c[1], DAY2, status="closed")  # c[0] is unique again
    twins.delete(customer_org, c[3])  # c[2] is unique again
    deleted = phone_fails[3]
    twins.delete(merchant, deleted)

    plan = plan_run(twins.source, twins.a, BY_TABLE["merchant"], DAY2, "incremental")
    assert plan.incremental and fixed[0] not in plan.keys
    runs_a, _ = twins.run(DAY2, "incremental")
    assert {s.validation.mode for s in runs_a} == {"incremental"}
    for s in runs_a:
        assert s.validation.records_evaluated < s.validation.records_total * 0.3, s.validation
    assert_same(twins)
    assert [status_of(twins.a, "merchant", k, "MER-C1-PHONE-FORMAT") for k in fixed] == ["fixed"] * 3
    assert [status_of(twins.a, "merchant", k, "MER-C1-PHONE-FORMAT") for k in broken] == ["open"] * 3
    assert status_of(twins.a, "merchant", deleted, "MER-C1-PHONE-FORMAT") == "gone"
    assert status_of(twins.a, "customer_org", c[0], UNIQUE) == "fixed"
    assert status_of(twins.a, "customer_org", c[1], UNIQUE) == "out_of_scope"
    assert status_of(twins.a, "customer_org", c[2], UNIQUE) == "fixed"
    assert status_of(twins.a, "customer_org", c[3], UNIQUE) == "gone"
    assert status_of(twins.a, "customer_org", c[4], UNIQUE) == "open"  # unchanged, its peer changed
    assert status_of(twins.a, "merchant", m_exp, "MER-E5-LICENCE-EXPIRED") == "open"  # time alone
    assert status_of(twins.a, "customer_org", c[5], "CUS-P4-LEGAL-REP-ID-EXPIRED") == "open"

    # day 3: a manager leaves; routing changes for records that did not change, so the run is full
    with twins.a.connect() as conn:
        leaver = conn.scalar(
            sa.select(Todo.assignee_staff_id).where(Todo.status == "open", Todo.routed_to_head.is_(False))
        )
    with twins.source.begin() as conn:
        conn.execute(sa.update(staff).where(staff.c.staff_id == leaver).values(active=False))
    runs_a, _ = twins.run(DAY3, "incremental")
    assert {s.validation.mode for s in runs_a} == {"full"}
    with twins.a.connect() as conn:
        reasons = set(conn.scalars(sa.select(CheckRun.mode_reason).where(CheckRun.logical_date == DAY3)))
    assert {r.split(" since ")[0] for r in reasons} == {"institutions or staff changed"}
    assert_same(twins)
    assert leaver not in {v[1] for v in todos(twins.a).values() if v[0] == "open"}


def failing(twins: Twins, table: str) -> set[str]:
    ctx = CheckContext(check_date=DAY1)
    return {str(r.record_key) for r in failing_records(twins.source, BY_TABLE[table], ctx)}


def _uscc_of(twins: Twins, key: str) -> str:
    with twins.source.connect() as conn:
        return str(conn.scalar(sa.select(customer_org.c.uscc).where(customer_org.c.cust_no == key)))


# --- when a run may be incremental, on the small bank of tests/checkbank.py -----------------------------


@pytest.fixture
def bank(databases: Databases) -> Bank:
    bank = Bank(databases)
    with bank.source.begin() as conn:  # one record changed last, the others a month before
        conn.execute(sa.update(merchant).values(updated_at=dt.datetime(2026, 10, 1, 9, 0)))
    update_record(bank.source, "merchant", LAST, updated_at=dt.datetime(2026, 11, 1, 9, 0))
    bank.run(CHECK_DATE)
    return bank


LAST = checkbank.key(36)  # changed at the high-water mark: every incremental run takes it again


def plan(bank: Bank, day: dt.date, requested: str = "incremental") -> Any:
    return plan_run(bank.source, bank.store, BY_TABLE["merchant"], day, requested)


def test_a_run_is_incremental_only_when_it_is_safe(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    later = CHECK_DATE + dt.timedelta(days=1)
    assert plan(bank, later).mode == "incremental"
    assert plan(bank, later, "full").reason == "full run requested"
    monkeypatch.setenv("DQGOV_FULL_SWEEP", WEEKDAYS[later.weekday()])
    assert plan(bank, later, "auto").reason == "full sweep day (DQGOV_FULL_SWEEP)"
    assert plan(bank, later + dt.timedelta(days=1), "auto").mode == "incremental"
    assert plan(bank, CHECK_DATE - dt.timedelta(days=1)).reason.startswith("check date before run")
    with bank.store.begin() as conn:
        conn.execute(sa.update(CheckRun).values(rules_fingerprint="an older rule book"))
    assert plan(bank, later).reason.startswith("rules, scope or reference data changed")


def test_after_a_void_the_next_run_is_full(bank: Bank) -> None:
    later = CHECK_DATE + dt.timedelta(days=1)
    voided = bank.run(later, mode="incremental")
    assert voided.validation.mode == "incremental"
    void_run(bank.store, voided.validation.run_id, "D001", "wrong extract", today=later)
    assert plan(bank, later).reason == f"a run after run {voided.validation.run_id - 1} was voided"


def test_an_incremental_run_refutes_a_claimed_fix_of_an_unchanged_record(bank: Bank) -> None:
    claimed = checkbank.key(1)
    with bank.store.begin() as conn:
        conn.execute(sa.update(Todo).where(Todo.record_key == claimed).values(status="pending_verification"))
    later = CHECK_DATE + dt.timedelta(days=1)
    run = bank.run(later, mode="incremental")
    assert run.validation.mode == "incremental" and run.validation.records_evaluated == 2  # and LAST
    assert bank.statuses()[f"{claimed}:{checkbank.PHONE}"] == "open"
    assert set(bank.statuses().values()) == {"open"}  # the other nine, not evaluated, stay open
    assert {t["last_seen"] for t in bank.todos().values()} == {later}


def test_only_records_that_changed_are_evaluated(bank: Bank) -> None:
    later = CHECK_DATE + dt.timedelta(days=1)
    fixed, broken = checkbank.key(2), checkbank.key(20)
    at = dt.datetime.combine(later, dt.time(8))
    update_record(bank.source, "merchant", fixed, contact_phone="13800138000", updated_at=at)
    update_record(bank.source, "merchant", broken, contact_phone=checkbank.BAD_PHONE, updated_at=at)
    unseen = checkbank.key(3)  # changed without telling: updated_at stays (the weekly full run finds it)
    update_record(bank.source, "merchant", unseen, contact_phone="13800138000")
    run = bank.run(later, mode="incremental")
    assert run.validation.records_evaluated == 3  # with LAST
    assert (run.reconcile.fixed, run.reconcile.opened) == (1, 1)
    statuses = bank.statuses()
    assert (
        statuses[f"{fixed}:{checkbank.PHONE}"] == "fixed"
        and statuses[f"{unseen}:{checkbank.PHONE}"] == "open"
    )
    full = bank.run(later + dt.timedelta(days=1), mode="full")
    assert full.reconcile.fixed == 1 and bank.statuses()[f"{unseen}:{checkbank.PHONE}"] == "fixed"


def test_every_rule_that_reads_the_check_date_has_a_time_boundary() -> None:
    def sql(rule: Any, day: dt.date) -> str:
        cols = source_columns(rule.table)
        condition = KINDS[rule.kind].sql_fails(cols, rule, CheckContext(check_date=day))
        return str(condition.compile(compile_kwargs={"literal_binds": True}))

    dated = {
        r.kind for s in SUITES for r in s.rules if sql(r, dt.date(2026, 1, 5)) != sql(r, dt.date(2027, 6, 9))
    }
    assert dated == set(TIME_BOUNDARIES)
