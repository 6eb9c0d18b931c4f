"""Findings, record states and shared keys reach the store by COPY on PostgreSQL, with exactly the rows the
executemany path writes, in bounded batches that each commit on their own (a failed run leaves nothing
once `fail_run` has cleared it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.contract import CREATED_COLUMNS, merchant
from expectations.kinds import CheckContext
from expectations.rulebook import Suite, load_suites
from expectations.runner import FailingRecord, failing_records
from remediation.checks import staging
from remediation.checks.keydefects import find_key_defects
from remediation.checks.pipeline import run_suite
from remediation.checks.routing import sync_org
from remediation.checks.staging import fail_run, stage_failing, stage_record_states, start_run
from remediation.demobank import DemoBankSpec, generate_demo_bank
from remediation.store.bulk import Appender, copy_supported
from remediation.store.engines import open_store
from remediation.store.models import DuplicateKey, Finding, RecordState, Todo
from tests.dbenv import Databases, source_engine
from tests.factories import without_primary_key

SUITES = {s.table: s for s in load_suites()}
SPEC = DemoBankSpec(merchants=1200, customers=600, defect_rate=0.3)
# what COPY's text format must escape, and what masking must keep: tabs, newlines, backslashes, `\N`
AWKWARD = ["a\tb", "line\nbreak\r\n", "back\\slash", "\\N", "N", "", " ", "张😀\u3000", "∅", "x" * 400]


@pytest.fixture
def pg(tmp_path: Any) -> Iterator[Databases]:
    dbs = Databases("postgresql", tmp_path)
    yield dbs
    dbs.drop_all()


def _rows(store: sa.Engine, model: Any, run_id: int) -> list[tuple[Any, ...]]:
    columns = [c for c in model.__table__.c if c.name != "run_id"]
    with store.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(sa.select(*columns).where(model.run_id == run_id).order_by(*columns))
        ]


def _both_ways(store: sa.Engine, source: sa.Engine, suite: Suite, stage: Any) -> tuple[int, int]:
    runs = []
    for copy in (True, False):
        run_id = start_run(store, suite, SPEC.check_date, "test", source)
        stage(run_id, copy)
        runs.append(run_id)
    return runs[0], runs[1]


def test_copy_stages_the_demo_banks_findings_exactly_as_executemany_does(pg: Databases) -> None:
    source = source_engine(pg.new("source"))
    generate_demo_bank(source, SPEC)
    store = open_store(pg.new("store"))
    sync_org(source, store)
    with store.connect() as conn:
        assert copy_supported(conn)
    ctx = CheckContext(check_date=SPEC.check_date)
    staged = 0
    for suite in SUITES.values():
        by_copy, by_insert = _both_ways(
            store,
            source,
            suite,
            lambda run_id, copy, suite=suite: stage_failing(
                store, suite, failing_records(source, suite, ctx), run_id, lambda _: None, copy=copy
            ),
        )
        copied, inserted = _rows(store, Finding, by_copy), _rows(store, Finding, by_insert)
        assert copied == inserted
        staged += len(copied)
    assert staged > 500  # the bank has defects, so the comparison means something


def test_awkward_values_survive_copy_byte_for_byte(pg: Databases) -> None:
    """Masked values and hashes of values holding what COPY's text format escapes, NULLs, long text."""
    source = source_engine(pg.new("source"))
    generate_demo_bank(source, DemoBankSpec(merchants=20, customers=0))
    store = open_store(pg.new("store"))
    sync_org(source, store)
    suite = SUITES["merchant"]
    created = CREATED_COLUMNS["merchant"]
    columns = sorted({c for rule in suite.rules for c in rule.columns})
    records = [
        FailingRecord(
            record_key=f"K{i:03d}\t{value}"[:64],
            inst_code=None if i % 3 == 0 else value[:20],
            mgr_staff_id=None if i % 2 else value[:20],
            values={
                **{c: value if (i + n) % 4 else None for n, c in enumerate(columns)},
                created: dt.date(2020, 1, i + 1),
            },
            rules=suite.rules,
        )
        for i, value in enumerate(AWKWARD)
    ]
    by_copy, by_insert = _both_ways(
        store,
        source,
        suite,
        lambda run_id, copy: stage_failing(store, suite, records, run_id, lambda _: None, copy=copy),
    )
    copied = _rows(store, Finding, by_copy)
    assert copied == _rows(store, Finding, by_insert)
    assert len(copied) == len(AWKWARD) * len(suite.rules)
    masked = {r[7] for r in copied}
    assert any("\t" in m for m in masked if m) and any("\\" in m for m in masked if m)


def test_record_states_and_shared_keys_by_copy_match_executemany(pg: Databases) -> None:
    source = source_engine(pg.new("source"))
    generate_demo_bank(source, SPEC)
    store = open_store(pg.new("store"))
    suite = SUITES["merchant"]
    run_suite(source, store, suite, SPEC.check_date, today=SPEC.check_date)
    with store.connect() as conn:
        keys = conn.scalars(sa.select(Todo.record_key).distinct().order_by(Todo.record_key)).all()
    without_primary_key(source)
    expanding: sa.BindParameter[Any] = sa.bindparam("k", expanding=True)
    with source.begin() as conn:  # some records gone, some out of scope, some keys shared
        conn.execute(
            sa.text("DELETE FROM merchant WHERE mer_id IN :k").bindparams(expanding), {"k": keys[:60:3]}
        )
        conn.execute(
            sa.text("UPDATE merchant SET status = 'closed' WHERE mer_id IN :k").bindparams(expanding),
            {"k": keys[1:60:3]},
        )
        conn.execute(
            sa.text("INSERT INTO merchant SELECT * FROM merchant WHERE mer_id IN :k").bindparams(expanding),
            {"k": keys[100:120]},
        )
    rules = [r.id for r in suite.rules]
    by_copy, by_insert = _both_ways(
        store,
        source,
        suite,
        lambda run_id, copy: stage_record_states(source, store, suite, run_id, rules, copy=copy),
    )
    states = _rows(store, RecordState, by_copy)
    assert states == _rows(store, RecordState, by_insert)
    assert {s[2] for s in states} == {"live", "gone", "out_of_scope"}
    run_id = start_run(store, suite, SPEC.check_date, "test", source)
    defects = find_key_defects(source, store, suite, run_id)
    assert sorted(k for k, _ in _rows(store, DuplicateKey, run_id)) == sorted(defects.duplicate_keys)
    assert len(defects.duplicate_keys) == 20


def test_each_batch_commits_alone_and_a_failed_run_leaves_nothing(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On both backends: a stream that breaks keeps the batches written before it, none of the one being
    filled; `fail_run` then clears the run's staging."""
    source = source_engine(databases.new("source"))
    generate_demo_bank(source, DemoBankSpec(merchants=200, customers=0, defect_rate=0.5))
    store = open_store(databases.new("store"))
    sync_org(source, store)
    suite = SUITES["merchant"]
    run_id = start_run(store, suite, SPEC.check_date, "test", source)
    written = []

    def breaking() -> Iterator[FailingRecord]:
        ctx = CheckContext(check_date=SPEC.check_date)
        for n, record in enumerate(failing_records(source, suite, ctx)):
            if n == 40:
                written.append(len(_rows(store, Finding, run_id)))
                raise RuntimeError("source connection lost")
            yield record

    monkeypatch.setattr(staging, "STAGING_BATCH", 25)
    with pytest.raises(RuntimeError, match="connection lost"):
        stage_failing(store, suite, breaking(), run_id, lambda _: None)
    assert written and written[0] >= 25 and written[0] % 25 == 0
    assert len(_rows(store, Finding, run_id)) == written[0]  # the batch being filled was not written
    fail_run(store, run_id, RuntimeError("source connection lost"))
    assert _rows(store, Finding, run_id) == []


def test_an_appender_holds_at_most_one_batch(databases: Databases) -> None:
    store = open_store(databases.new("store"))
    source = source_engine(databases.new("source"))
    generate_demo_bank(source, DemoBankSpec(merchants=5, customers=0))
    run_id = start_run(store, SUITES["merchant"], SPEC.check_date, "test", source)
    sizes = []
    with Appender(store, DuplicateKey, ("run_id", "record_key", "rows"), batch=4) as staged:
        for i in range(10):
            staged.add((run_id, f"K{i}", 2))
            sizes.append(len(staged.rows))
    assert max(sizes) < 4 and staged.written == 10
    assert len(_rows(store, DuplicateKey, run_id)) == 10


def test_record_states_in_many_pages_read_the_todos_once_on_postgresql(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of a few keys give the same states as one page. On PostgreSQL the candidate to-dos are read
    by one statement whatever the number of pages: keyset pages re-filter and re-sort every remaining to-do
    each time, which grew with the square of the open to-dos (11 s of an incremental run at 1M records)."""
    source = source_engine(databases.new("source"))
    generate_demo_bank(source, DemoBankSpec(merchants=200, customers=0, defect_rate=0.5))
    store = open_store(databases.new("store"))
    suite = SUITES["merchant"]
    run_suite(source, store, suite, SPEC.check_date, today=SPEC.check_date)
    with store.connect() as conn:
        keys = conn.scalars(sa.select(Todo.record_key).distinct().order_by(Todo.record_key)).all()
    with source.begin() as conn:  # some records gone, some out of scope
        conn.execute(sa.delete(merchant).where(merchant.c.mer_id.in_(keys[:30:3])))
        conn.execute(sa.update(merchant).where(merchant.c.mer_id.in_(keys[1:30:3])).values(status="closed"))
    rules = [r.id for r in suite.rules]
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM dq_todo" in statement:
            reads.append(statement)

    one_page = start_run(store, suite, SPEC.check_date, "test", source)
    stage_record_states(source, store, suite, one_page, rules)
    monkeypatch.setattr(staging, "LOOKUP_BATCH", 7)
    paged = start_run(store, suite, SPEC.check_date, "test", source)
    sa.event.listen(store, "before_cursor_execute", count)
    stage_record_states(source, store, suite, paged, rules)
    sa.event.remove(store, "before_cursor_execute", count)

    states = _rows(store, RecordState, paged)
    assert states == _rows(store, RecordState, one_page)
    assert len(states) == len(keys) > 7 * 3
    assert {s[2] for s in states} == {"live", "gone", "out_of_scope"}
    pages = -(-len(keys) // 7)
    assert len(reads) == (1 if databases.backend == "postgresql" else pages + 1)


def test_the_to_do_cursor_is_planned_for_reading_every_row(pg: Databases) -> None:
    """Planned for its first tenth (PostgreSQL's default for a cursor), the candidates' anti-join with the
    run's findings, staged moments before and not yet in the statistics, took a nested loop over them for
    each to-do: 314 s instead of 6 s at 1M records. `_key_pages` reads with the setting of a whole read."""
    store = open_store(pg.new("store"))
    fraction = sa.func.current_setting("cursor_tuple_fraction")
    assert list(staging._key_pages(store, sa.select(fraction), fraction)) == [["1"]]  # type: ignore[arg-type]
    with store.connect() as conn:  # only for that read: the setting ends with the cursor's transaction
        assert conn.scalar(sa.select(fraction)) == "0.1"


def test_record_states_that_fail_midway_hold_no_todo_read_open(
    pg: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source fails after the first page: the store's streamed read ends with the call, so nothing
    is left holding the to-dos (a statement that must wait for every reader gets its lock at once)."""
    source = source_engine(pg.new("source"))
    generate_demo_bank(source, DemoBankSpec(merchants=200, customers=0, defect_rate=0.5))
    store = open_store(pg.new("store"))
    suite = SUITES["merchant"]
    run_suite(source, store, suite, SPEC.check_date, today=SPEC.check_date)
    run_id = start_run(store, suite, SPEC.check_date, "test", source)
    lookups: list[str] = []

    def fail_second(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        lookups.append(statement)
        if len(lookups) == 2:
            raise RuntimeError("source connection lost")

    monkeypatch.setattr(staging, "LOOKUP_BATCH", 7)
    sa.event.listen(source, "before_cursor_execute", fail_second)
    with pytest.raises(RuntimeError, match="connection lost"):
        stage_record_states(source, store, suite, run_id, [r.id for r in suite.rules])
    with store.begin() as conn:
        conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        conn.exec_driver_sql("LOCK TABLE dq_todo IN ACCESS EXCLUSIVE MODE")
