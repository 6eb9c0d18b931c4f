"""Reconcile: findings become to-dos, fixes close them as verified, regressions reopen them; on both backends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.checks.pipeline import RunSummary, run_suite, validate
from remediation.checks.reconcile.run import reconcile_run
from remediation.lifecycle import Lifecycle
from remediation.store.engines import open_store
from remediation.store.models import CheckRunRule, Todo, TodoEvent
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row, update_record

SUITES = {s.table: s for s in load_suites()}


def run(source_url: str, store: sa.Engine, table: str = "merchant", day: dt.date = CHECK_DATE) -> RunSummary:
    return run_suite(source_engine(source_url), store, SUITES[table], day)


def todos(store: sa.Engine) -> dict[tuple[str, str], dict[str, Any]]:
    with store.connect() as conn:
        rows = conn.execute(sa.select(Todo).order_by(Todo.id)).mappings().all()
    return {(r["record_key"], r["rule_id"]): dict(r) for r in rows}


def events(store: sa.Engine) -> list[tuple[int, str]]:
    with store.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(sa.select(TodoEvent.todo_id, TodoEvent.event).order_by(TodoEvent.id))
        ]


@pytest.fixture
def bank(databases: Any) -> tuple[str, sa.Engine, sa.Engine]:
    source_url = databases.new("source")
    merchants = [merchant_row(i) for i in range(1, 7)]
    merchants[1]["contact_phone"] = "12345678901"  # C1
    merchants[2]["uscc"] = merchants[2]["uscc"][:-1] + ("0" if merchants[2]["uscc"][-1] != "0" else "1")  # E2
    merchants[3]["mgr_staff_id"] = "M103"  # inactive manager → sub-branch head S101 (G3)
    merchants[3]["licence_end"] = dt.date(2026, 1, 1)  # E5 expired
    merchants[4].update(
        inst_code="110200", mgr_staff_id=None, contact_phone="1380013800"
    )  # → B001 (S201 inactive)
    source = build_source(source_url, merchants, [customer_row(1)])
    return source_url, source, open_store(databases.new("store"))


def test_failing_records_become_routed_todos(bank: tuple[str, sa.Engine, sa.Engine]) -> None:
    source_url, _, store = bank
    summary = run(source_url, store)
    found = todos(store)
    assert set(found) == {
        ("102360458120002", "MER-C1-PHONE-FORMAT"),
        ("102360458120003", "MER-E2-USCC-FORMAT"),
        ("102360458120004", "MER-G3-ROUTABLE"),
        ("102360458120004", "MER-E5-LICENCE-EXPIRED"),
        ("102360458120005", "MER-G3-ROUTABLE"),
        ("102360458120005", "MER-C1-PHONE-FORMAT"),
    }
    assert summary.reconcile.opened == 6
    assignees = {k: (v["assignee_staff_id"], v["routed_to_head"]) for k, v in found.items()}
    assert assignees[("102360458120002", "MER-C1-PHONE-FORMAT")] == ("M101", False)
    assert assignees[("102360458120004", "MER-E5-LICENCE-EXPIRED")] == ("S101", True)
    assert assignees[("102360458120005", "MER-C1-PHONE-FORMAT")] == ("B001", True)
    todo = found[("102360458120002", "MER-C1-PHONE-FORMAT")]
    assert (todo["clause"], todo["columns"], todo["severity"], todo["status"]) == (
        "C1",
        "contact_phone",
        "low",
        "open",
    )
    assert todo["masked_value"] == "contact_phone=123****8901"
    assert todo["first_seen"] == todo["last_seen"] == CHECK_DATE
    assert [e for _, e in events(store)] == ["opened"] * 6


def test_rerunning_a_date_changes_nothing(bank: tuple[str, sa.Engine, sa.Engine]) -> None:
    source_url, _, store = bank
    run(source_url, store)
    before, before_events = todos(store), events(store)
    again = run(source_url, store)
    assert todos(store) == before
    assert events(store) == before_events
    assert (again.reconcile.opened, again.reconcile.kept, again.reconcile.fixed) == (0, 6, 0)


def test_fix_closes_exactly_its_todos_and_a_regression_reopens_them(
    bank: tuple[str, sa.Engine, sa.Engine],
) -> None:
    source_url, source, store = bank
    run(source_url, store)
    update_record(
        source, "merchant", "102360458120004", mgr_staff_id="M102", licence_end=dt.date(9999, 12, 31)
    )
    next_day = CHECK_DATE + dt.timedelta(days=1)
    fixed = run(source_url, store, day=next_day)
    after = todos(store)
    closed = {k for k, v in after.items() if v["status"] == "fixed"}
    assert closed == {("102360458120004", "MER-G3-ROUTABLE"), ("102360458120004", "MER-E5-LICENCE-EXPIRED")}
    assert all(after[k]["closed_on"] == next_day for k in closed)
    assert fixed.reconcile.fixed == 2 and fixed.reconcile.kept == 4
    assert {v["status"] for k, v in after.items() if k not in closed} == {"open"}

    update_record(source, "merchant", "102360458120004", licence_end=dt.date(2026, 1, 1))
    broken = run(source_url, store, day=next_day + dt.timedelta(days=1))
    again = todos(store)[("102360458120004", "MER-E5-LICENCE-EXPIRED")]
    assert (again["status"], again["reopen_count"], again["closed_on"]) == ("open", 1, None)
    assert again["first_seen"] == CHECK_DATE
    assert broken.reconcile.reopened == 1
    history = [e for tid, e in events(store) if tid == again["id"]]
    assert history == ["opened", "fixed", "reopened", "reassigned"]  # M103 had left; M102 manages it now
    assert again["assignee_staff_id"] == "M102"


def test_closed_record_is_out_of_scope_not_fixed(bank: tuple[str, sa.Engine, sa.Engine]) -> None:
    source_url, source, store = bank
    run(source_url, store)
    update_record(source, "merchant", "102360458120002", status="closed")
    summary = run(source_url, store, day=CHECK_DATE + dt.timedelta(days=1))
    assert todos(store)[("102360458120002", "MER-C1-PHONE-FORMAT")]["status"] == "out_of_scope"
    assert (summary.reconcile.out_of_scope, summary.reconcile.fixed) == (1, 0)


def test_transfer_moves_open_todos(bank: tuple[str, sa.Engine, sa.Engine]) -> None:
    source_url, source, store = bank
    run(source_url, store)
    update_record(source, "merchant", "102360458120002", mgr_staff_id="M102")
    summary = run(source_url, store, day=CHECK_DATE + dt.timedelta(days=1))
    todo = todos(store)[("102360458120002", "MER-C1-PHONE-FORMAT")]
    assert (todo["assignee_staff_id"], todo["mgr_staff_id"], todo["status"]) == ("M102", "M102", "open")
    assert summary.reconcile.reassigned == 1
    assert [e for tid, e in events(store) if tid == todo["id"]] == ["opened", "reassigned"]


def test_an_older_date_run_after_a_newer_one_changes_nothing(bank: tuple[str, sa.Engine, sa.Engine]) -> None:
    source_url, source, store = bank
    run(source_url, store)
    before = todos(store)
    update_record(source, "merchant", "102360458120002", contact_phone="13800138000")
    late = run(source_url, store, day=CHECK_DATE - dt.timedelta(days=3))
    assert late.reconcile.status == "superseded"
    assert todos(store) == before


def test_a_rule_whose_counts_disagree_does_not_close_todos(bank: tuple[str, sa.Engine, sa.Engine]) -> None:
    source_url, source, store = bank
    run(source_url, store)
    update_record(source, "merchant", "102360458120002", contact_phone="13800138000")
    staged = validate(source_engine(source_url), store, SUITES["merchant"], CHECK_DATE + dt.timedelta(days=1))
    with store.begin() as conn:  # as if GX had counted a failing row the extractor did not see
        conn.execute(
            sa.update(CheckRunRule)
            .where(CheckRunRule.run_id == staged.run_id, CheckRunRule.rule_id == "MER-C1-PHONE-FORMAT")
            .values(unexpected=2, status="mismatch")
        )
    reconcile_run(store, staged.run_id, Lifecycle.in_force())
    assert todos(store)[("102360458120002", "MER-C1-PHONE-FORMAT")]["status"] == "open"


def test_every_failing_row_becomes_a_todo(databases: Any) -> None:
    source_url = databases.new("source")
    build_source(source_url, [merchant_row(i, contact_phone="") for i in range(10_000)])
    store = open_store(databases.new("store"))
    summary = run(source_url, store)
    assert summary.validation.findings == 10_000
    with store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Todo)) == 10_000
        by_rule = conn.execute(
            sa.select(CheckRunRule.unexpected, CheckRunRule.extracted, CheckRunRule.status).where(
                CheckRunRule.rule_id == "MER-C1-PHONE-REQUIRED"
            )
        ).one()
    assert tuple(by_rule) == (10_000, 10_000, "ok")


def test_the_rule_files_scope_decides_what_is_out_of_scope(databases: Any, tmp_path: Any) -> None:
    """A bank whose merchant rules also leave `suspended` records out: a suspended record raises no to-do,
    and its open to-dos close as out of scope, not as fixed (clause G1 as the YAML says it)."""
    import shutil

    from expectations.rulebook import RULES_DIR, load_suites

    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    path = rules / "merchant.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "exclude_status: [closed]", "exclude_status: [closed, suspended]"
        ),
        encoding="utf-8",
    )
    merchant = next(s for s in load_suites(rules) if s.table == "merchant")
    assert merchant.scope.exclude_status == ("closed", "suspended")
    source_url = databases.new("source")
    source = build_source(
        source_url,
        [
            merchant_row(1, contact_phone="12345678901"),
            merchant_row(2, contact_phone="12345678901", status="suspended"),
        ],
    )
    store = open_store(databases.new("store"))
    run_suite(source_engine(source_url), store, merchant, CHECK_DATE)
    assert set(todos(store)) == {("102360458120001", "MER-C1-PHONE-FORMAT")}
    update_record(source, "merchant", "102360458120001", status="suspended")
    summary = run_suite(source_engine(source_url), store, merchant, CHECK_DATE + dt.timedelta(days=1))
    assert todos(store)[("102360458120001", "MER-C1-PHONE-FORMAT")]["status"] == "out_of_scope"
    assert (summary.reconcile.out_of_scope, summary.reconcile.fixed) == (1, 0)


def test_a_run_applies_with_statistics_that_count_its_staged_rows(
    bank: tuple[str, sa.Engine, sa.Engine],
) -> None:
    # PostgreSQL plans reconcile's joins of the run's findings with the to-dos by these statistics: from
    # before the run (or none at all) they say the run staged nothing, and it loops over every to-do.
    source_url, _, store = bank
    summary = run(source_url, store)
    assert summary.reconcile.opened == 6
    if store.dialect.name != "postgresql":
        return  # SQLite keeps no statistics unless asked (ANALYZE), and plans without them
    with store.connect() as conn:
        stmt = sa.text("SELECT relname, reltuples FROM pg_class WHERE relname IN ('dq_finding', 'dq_todo')")
        tuples = {name: count for name, count in conn.execute(stmt)}
    assert tuples == {"dq_finding": 6, "dq_todo": 0}  # analyzed before the to-dos were opened
