"""A run split into key ranges (the check DAG's prepare → extract per range → finish) stages exactly what the
one-process `validate` stages and ends in the same to-dos, for N = 1, 2, 4 and 7 ranges, on SQLite and
PostgreSQL, over the demo bank and over a source whose keys are missing or shared; a retried range or
finish stages nothing twice, and a range that fails half-way stages nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.compiler import source_columns
from expectations.rulebook import Suite, load_suites
from remediation.checks import partitions, staging
from remediation.checks.partitions import extract_range, finish, key_ranges, prepare, validate_partitioned
from remediation.checks.pipeline import ValidateSummary, validate
from remediation.checks.reconcile.run import reconcile_run
from remediation.demobank import DemoBankSpec, generate_demo_bank
from remediation.errors import DqgovError
from remediation.lifecycle import Lifecycle
from remediation.store.engines import open_store
from remediation.store.models import CheckRun, CheckRunRule, Finding, RecordState, RunPartition, Todo
from tests.checkbank import BAD_PHONE, key
from tests.dbenv import BACKENDS, Databases
from tests.factories import CHECK_DATE, merchant_row
from tests.remediation.checks.test_keydefects import keyless_source

SUITES = load_suites()
SPEC = DemoBankSpec(merchants=200, customers=100, seed=11, check_date=CHECK_DATE)
DAY2 = CHECK_DATE + dt.timedelta(days=1)
FINDING = (
    Finding.rule_id,
    Finding.record_key,
    Finding.inst_code,
    Finding.mgr_staff_id,
    Finding.assignee_staff_id,
    Finding.routed_to_head,
    Finding.masked_value,
    Finding.record_created,
    Finding.value_hash,
)
TODO = (
    Todo.rule_id,
    Todo.table_name,
    Todo.record_key,
    Todo.status,
    Todo.assignee_staff_id,
    Todo.routed_to_head,
    Todo.masked_value,
    Todo.first_seen,
    Todo.last_seen,
    Todo.closed_on,
    Todo.due_date,
    Todo.value_hash,
)


@pytest.fixture(params=BACKENDS)
def dbs(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Databases]:
    made = Databases(request.param, tmp_path)
    yield made
    made.drop_all()


def staged(
    store: sa.Engine, run_id: int
) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], tuple[Any, ...]]:
    """(findings, rule outcomes, run counts) of a validated run, without ids."""
    with store.connect() as conn:
        findings = {tuple(r) for r in conn.execute(sa.select(*FINDING).where(Finding.run_id == run_id))}
        rules = {
            tuple(r)
            for r in conn.execute(
                sa.select(
                    CheckRunRule.rule_id, CheckRunRule.unexpected, CheckRunRule.extracted, CheckRunRule.status
                ).where(CheckRunRule.run_id == run_id)
            )
        }
        run = conn.execute(
            sa.select(
                CheckRun.status,
                CheckRun.records_total,
                CheckRun.records_in_scope,
                CheckRun.failing_records,
                CheckRun.findings,
                CheckRun.source_defects,
            ).where(CheckRun.id == run_id)
        ).one()
    assert len(findings) == run.findings - _unstaged(store, run_id)  # no finding staged twice
    return findings, rules, tuple(run)


def _unstaged(store: sa.Engine, run_id: int) -> int:
    """Findings counted but not staged (records without a key or with a shared one)."""
    with store.connect() as conn:
        staged_rows = conn.scalar(
            sa.select(sa.func.count()).select_from(Finding).where(Finding.run_id == run_id)
        )
        total = conn.scalar(sa.select(CheckRun.findings).where(CheckRun.id == run_id))
    return int(total or 0) - int(staged_rows or 0)


def todos(store: sa.Engine, table: str = "merchant") -> set[tuple[Any, ...]]:
    with store.connect() as conn:
        return {tuple(r) for r in conn.execute(sa.select(*TODO).where(Todo.table_name == table))}


def check(source: sa.Engine, store: sa.Engine, suite: Suite, day: dt.date, n: int | None) -> ValidateSummary:
    """Validate (n None: in one process, as `run_suite` does; else in n ranges); reconcile after reading."""
    if n is None:
        return validate(source, store, suite, day)
    return validate_partitioned(source, store, suite, day, n)


def test_every_range_count_stages_what_one_process_stages_and_gives_the_same_todos(dbs: Databases) -> None:
    """N = 1, 2, 4, 7 on the merchants; both tables with N = 4; the next day (some records fixed, some
    gone, to-dos closing) with N = 4 and 7. Each store's to-dos are those of the store checked in one
    process. (Each run costs a GX validation: the plan keeps the test near a minute per backend.)"""
    source = sa.create_engine(dbs.new("source"))
    generate_demo_bank(source, SPEC)
    plan: dict[dt.date, dict[str, list[int | None]]] = {
        CHECK_DATE: {"merchant": [None, 1, 2, 4, 7], "customer_org": [None, 4]},
        DAY2: {"merchant": [None, 4, 7]},
    }
    stores = {n: open_store(dbs.new(f"store{n or 0}")) for n in (None, 1, 2, 4, 7)}
    for day, tables in plan.items():
        if day == DAY2:  # fix some failing records, drop others: their to-dos close
            _change_source(source)
        for suite in (s for s in SUITES if s.table in tables):
            results = {}
            for n in tables[suite.table]:
                summary = check(source, stores[n], suite, day, n)
                results[n] = (summary.findings, summary.failing_records, staged(stores[n], summary.run_id))
                reconcile_run(stores[n], summary.run_id, Lifecycle.in_force())
            reference = results.pop(None)
            assert reference[0] > 0, suite.table
            for n, result in results.items():
                assert result == reference, (suite.table, day, n)
            expected = todos(stores[None], suite.table)
            assert {t[3] for t in expected} >= ({"open", "fixed"} if day == DAY2 else {"open"})
            for n in tables[suite.table][1:]:
                assert todos(stores[n], suite.table) == expected, (suite.table, day, n)
    for store in stores.values():
        store.dispose()
    source.dispose()


def _change_source(source: sa.Engine) -> None:
    suite = next(s for s in SUITES if s.table == "merchant")
    with source.begin() as conn:
        keys = sorted(conn.scalars(sa.select(sa.column("mer_id")).select_from(sa.table("merchant"))))
        conn.execute(
            sa.text("UPDATE merchant SET contact_phone = '13800138000' WHERE mer_id IN :keys").bindparams(
                sa.bindparam("keys", expanding=True)
            ),
            {"keys": keys[::3]},
        )
        conn.execute(
            sa.text("DELETE FROM merchant WHERE mer_id IN :keys").bindparams(
                sa.bindparam("keys", expanding=True)
            ),
            {"keys": keys[1::7]},
        )
    assert suite.key == "mer_id"


def test_ranges_cover_every_key_once_and_the_rows_without_a_key_in_the_first(dbs: Databases) -> None:
    merchants = [merchant_row(i) for i in range(1, 41)] + [merchant_row(41, mer_id=None)]
    source = keyless_source(dbs.new("source"), merchants)
    suite = next(s for s in SUITES if s.table == "merchant")
    key_col = source_columns("merchant")[suite.key]
    for n in (1, 2, 4, 7, 40, 60):
        ranges = key_ranges(source, suite, n)
        assert (len(ranges) == n if n <= 40 else len(ranges) <= n) and ranges[0].lo is None
        assert ranges[-1].hi is None
        seen: list[Any] = []
        with source.connect() as conn:
            for r in ranges:
                stmt = sa.select(key_col).select_from(sa.table("merchant")).where(*r.where(key_col))
                got = list(conn.scalars(stmt))
                assert got or n > 40, (n, r)
                seen += got
        assert sorted(seen, key=str) == sorted((m["mer_id"] for m in merchants), key=str), n
    source.dispose()


def test_missing_and_shared_keys_are_counted_once_and_never_staged(dbs: Databases) -> None:
    shared = key(2)
    merchants = [merchant_row(i, contact_phone=BAD_PHONE if i % 2 else "13800138000") for i in range(1, 30)]
    merchants += [
        merchant_row(2, inst_code="110200", mgr_staff_id="M201", contact_phone=BAD_PHONE),
        merchant_row(40, mer_id=None, contact_phone=BAD_PHONE),
    ]
    source = keyless_source(dbs.new("source"), merchants)
    suite = next(s for s in SUITES if s.table == "merchant")
    results = {}
    for n in (None, 4):
        store = open_store(dbs.new(f"store{n or 0}"))
        summary = check(source, store, suite, CHECK_DATE, n)
        results[n] = staged(store, summary.run_id), summary.source_defects
        reconcile_run(store, summary.run_id, Lifecycle.in_force())
        results[n] += (todos(store),)
        assert shared not in {t[2] for t in results[n][2]}
        store.dispose()
    assert results[4] == results[None]
    assert "1 row(s) without mer_id" in results[4][1] and shared in results[4][1]
    source.dispose()


def test_a_retried_range_or_finish_stages_nothing_twice_and_a_failed_range_nothing_at_all(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchants = [merchant_row(i, contact_phone=BAD_PHONE if i % 3 else "13800138000") for i in range(1, 61)]
    source = keyless_source(dbs.new("source"), merchants)
    store = open_store(dbs.new("store"))
    suite = next(s for s in SUITES if s.table == "merchant")
    ready = prepare(source, store, suite, CHECK_DATE, 3)
    run_id = ready.run_id

    def findings() -> int:
        with store.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).where(Finding.run_id == run_id)) or 0)

    with pytest.raises(DqgovError, match=r"key range\(s\) \[0, 1, 2\] are not staged"):
        finish(source, store, suite, ready)
    monkeypatch.setattr(staging, "STAGING_BATCH", 3)  # flush every 3 findings, then fail after the first

    def crash(_: str) -> None:
        raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError, match="the worker died"):
        extract_range(source, store, suite, ready, 1, crash)
    assert findings() == 0  # the batches flushed before the crash were rolled back with it
    first = extract_range(source, store, suite, ready, 1)
    after_first = findings()
    assert first > 0 and after_first > 0
    assert extract_range(source, store, suite, ready, 1) == first  # a retry after the commit: a no-op
    assert findings() == after_first
    for part in (0, 2):
        extract_range(source, store, suite, ready, part)
    once = finish(source, store, suite, ready)
    again = finish(source, store, suite, ready)  # the task retried after its commit
    assert again == once
    with store.connect() as conn:
        parts = conn.execute(
            sa.select(RunPartition.part, RunPartition.records).where(RunPartition.run_id == run_id)
        ).all()
        states = conn.scalar(sa.select(sa.func.count()).where(RecordState.run_id == run_id))
    assert (
        sorted(p.part for p in parts) == [0, 1, 2] and sum(p.records for p in parts) == once.failing_records
    )
    assert once.findings == findings() == 40 and states == 0 and once.rules_not_closable == ()
    store.dispose()
    source.dispose()


def test_the_number_of_ranges_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DQGOV_CHECK_PARTITIONS", "4")
    assert partitions.partition_count() == 4 and partitions.partition_count("2") == 2
    for bad, message in (("0", "partitions=0 must be between 1 and 64"), ("x", "partitions='x' is not")):
        with pytest.raises(DqgovError, match=message):
            partitions.partition_count(bad)
    monkeypatch.setenv("DQGOV_CHECK_PARTITIONS", "65")
    with pytest.raises(DqgovError, match="DQGOV_CHECK_PARTITIONS=65 must be between 1 and 64"):
        partitions.partition_count()
