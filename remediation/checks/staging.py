"""Staging of one check run: the rules of the run, its findings, the state of records whose to-dos may close,
its records per institution, and the run's own row (started, validated or failed). Only ever appends under
the run's id; reconcile applies it."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from expectations.compiler import source_columns
from expectations.contract import CREATED_COLUMNS, PRIMARY_KEYS
from expectations.rulebook import Suite
from expectations.runner import (
    FailingRecord,
)
from remediation.checks.keydefects import KeyDefects, alert_key_defects
from remediation.checks.routing import load_routing
from remediation.clock import now
from remediation.masking import masked_summary, value_hash
from remediation.store.bulk import STAGING_BATCH, Appender, append_rows
from remediation.store.engines import safe_url
from remediation.store.models import (
    CheckRun,
    CheckRunRule,
    DuplicateKey,
    Finding,
    RecordState,
    RuleRecord,
    RunPartition,
    RunStatus,
    RunVolume,
)
from remediation.store.snapshot_totals import rebuild_totals, severities
from remediation.store.tablelock import holder, lock_table
from remediation.store.workflow_models import RunRecords

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Extracted:
    """What the extractor streamed: failing records per rule id, and failing records in all."""

    per_rule: Counter[str]
    records: int


LOOKUP_BATCH = 5000  # keys per look-up in the source (one IN list)


def _quiet(_: str) -> None:
    pass


def sync_rules(store: sa.Engine, suite: Suite) -> None:
    """The suite's rules into `dq_rule`; the snapshot totals are summed again when a severity changed.

    Two checks starting at once would both delete and both insert the rules: the second waits for the
    first's commit (`lock_table`), then replaces what the first wrote."""
    with store.begin() as conn:
        lock_table(conn, RuleRecord.__tablename__)
        before = severities(conn)
        conn.execute(sa.delete(RuleRecord).where(RuleRecord.table_name == suite.table))
        conn.execute(
            sa.insert(RuleRecord),
            [
                {
                    "rule_id": r.id,
                    "table_name": r.table,
                    "clauses": r.clause_text,
                    "columns": r.columns_text,
                    "kind": r.kind,
                    "severity": r.severity,
                    "dimension": r.dimension,
                    "dimension_gbt": r.dimension_gbt,
                    "description": r.description,
                    "hint": r.hint,
                    "regulation": r.regulation,
                    "fingerprint": r.fingerprint(),
                }
                for r in suite.rules
            ],
        )
        after = severities(conn)
        if any(before.get(r, "low") != after.get(r, "low") for r in before.keys() | after.keys()):
            rebuild_totals(conn)


def start_run(
    store: sa.Engine,
    suite: Suite,
    check_date: dt.date,
    trigger: str,
    source: sa.Engine,
    record_key: str | None = None,
    run_values: Mapping[str, object] | None = None,
) -> int:
    at = now()
    with store.begin() as conn:
        return int(
            conn.execute(
                sa.insert(CheckRun)
                .values(
                    table_name=suite.table,
                    logical_date=check_date,
                    trigger=trigger,
                    record_key=record_key,
                    status=RunStatus.VALIDATING,
                    source=safe_url(source.url),
                    started_at=at,
                    owner=holder(),
                    heartbeat_at=at,
                    **(run_values or {}),
                )
                .returning(CheckRun.id)
            ).scalar_one()
        )


FINDING_COLUMNS = (
    "run_id",
    "rule_id",
    "record_key",
    "table_name",
    "inst_code",
    "mgr_staff_id",
    "assignee_staff_id",
    "routed_to_head",
    "masked_value",
    "record_created",
    "value_hash",
)


def stage_failing(
    store: sa.Engine,
    suite: Suite,
    failing: Iterable[FailingRecord],
    run_id: int,
    progress: Progress,
    skipped: frozenset[str] = frozenset(),
    conn: sa.Connection | None = None,
    copy: bool = True,
) -> Extracted:
    """Route and stage every (rule, record) of `failing` as findings of the run; counts per rule id.

    Records without a key, or with a key in `skipped` (shared by several rows), are counted (so the
    counts still match GX's) but not staged: they cannot become to-dos. Findings go to the store as they
    stream in, `STAGING_BATCH` at a time (COPY on PostgreSQL unless `copy` is False: `remediation.store.bulk`).
    With `conn`, every batch goes into that connection's transaction (a partition of a run stages all or
    nothing); else each batch commits on its own.
    Masking and the value hash are computed here, in Python, not in SQL: docs/decisions.md says why.
    """
    extracted: Counter[str] = Counter()
    created = CREATED_COLUMNS[suite.table]
    if conn is None:
        with store.connect() as reader:
            routing = load_routing(reader)
    else:
        routing = load_routing(conn)
    records = 0
    with Appender(store, Finding, FINDING_COLUMNS, STAGING_BATCH, copy, conn) as findings:
        for record in failing:
            records += 1
            for rule in record.rules:
                extracted[rule.id] += 1
            if record.record_key is None or record.record_key in skipped:
                continue
            assignee, to_head = routing.route(record.mgr_staff_id, record.inst_code)
            wrote = False
            for rule in record.rules:
                wrote |= findings.add(
                    (
                        run_id,
                        rule.id,
                        record.record_key,
                        suite.table,
                        record.inst_code,
                        record.mgr_staff_id,
                        assignee,
                        to_head,
                        masked_summary(rule.columns, record.values),
                        record.values.get(created),
                        value_hash(rule.columns, record.values),
                    )
                )
            if wrote:
                progress(f"{suite.table}: {records} failing records staged")
    return Extracted(extracted, records)


def stage_record_states(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    run_id: int,
    closable_rules: Sequence[str],
    record_key: str | None = None,
    evaluated: frozenset[str] | None = None,
    copy: bool = True,
) -> None:
    """Look up, in the source, what became of records whose to-dos reconcile may close (they no longer fail).

    Those are the to-dos reconcile closes: open, pending verification and exempted ones; with `record_key`,
    only that record's. Each record's state is `live`, `out_of_scope` (its status is out of the suite's
    scope, clause G1) or `gone` (no longer in the source). With `evaluated` (an incremental run), a record
    still in the source is staged only if it is one of those keys: the others' to-dos stay as they are.
    """
    from remediation.checks.reconcile.transitions import CLOSABLE
    from remediation.store.models import Todo

    of_record = Todo.record_key == record_key if record_key is not None else sa.true()

    if not closable_rules:
        return
    found = (
        sa.select(Finding.record_key)
        .where(
            Finding.run_id == run_id, Finding.rule_id == Todo.rule_id, Finding.record_key == Todo.record_key
        )
        .exists()
    )
    key_col: sa.ColumnClause[str] = sa.column(PRIMARY_KEYS[suite.table])
    src = sa.table(suite.table, key_col, sa.column("status"))
    candidates = sa.select(Todo.record_key).where(
        Todo.table_name == suite.table,
        Todo.status.in_(CLOSABLE),
        of_record,
        Todo.rule_id.in_(list(closable_rules)),
        ~found,
    )
    # closed on the way out, error or not: the cursor's transaction must not outlive the call
    with contextlib.closing(_key_pages(store, candidates.distinct(), Todo.record_key)) as pages:
        for keys in pages:
            with source.connect() as conn:
                rows = conn.execute(
                    sa.select(key_col, src.c.status).where(key_in(key_col, keys, conn.dialect))
                )
                states: dict[str, str | None] = {str(k): s for k, s in rows}
            staged = [k for k in keys if evaluated is None or k in evaluated or k not in states]
            if staged:
                with store.begin() as conn:
                    append_rows(
                        conn,
                        RecordState,
                        ("run_id", "record_key", "status", "state"),
                        [(run_id, k, states.get(k), record_state(suite, k, states)) for k in staged],
                        copy,
                    )


def key_in(col: ColumnElement[Any], keys: Sequence[str], dialect: sa.Dialect) -> ColumnElement[bool]:
    """`col` is one of `keys` (a look-up batch). On PostgreSQL one array parameter (`= ANY`), which the
    driver sends as it is: an IN list of 5,000 parameters is expanded by SQLAlchemy and its statement parsed
    again by psycopg, which took twice the time of the look-up itself (300,000 keys: 6.1 s against 3.5 s)."""
    if dialect.name == "postgresql":
        return col == sa.any_(sa.bindparam(None, list(keys), type_=postgresql.ARRAY(sa.String)))
    return col.in_(keys)


def _key_pages(
    store: sa.Engine, stmt: sa.Select[Any], key: InstrumentedAttribute[str]
) -> Generator[list[str], None, None]:
    """The keys `stmt` selects, in order, in pages of `LOOKUP_BATCH`, never all held at once.

    On PostgreSQL one statement read through a server-side cursor: keyset pages (`key > last … LIMIT`)
    would each filter and sort every remaining to-do again, since no index leads with the record key (an
    incremental run at 1M records, ~300,000 open to-dos: 11.9 s in 60 pages, 6.0 s now). On SQLite, the
    embedded store of small banks, keyset pages as before: a read held open across the pages' writes would
    keep its write-ahead log from being checkpointed.

    The cursor is planned for reading every row (`cursor_tuple_fraction` 1): planned for its first tenth,
    the default, the anti-join with the run's findings, just staged and not yet in the statistics, became
    a nested loop over the findings for each to-do (at 1M records 314 s instead of 6 s).
    """
    ordered = stmt.order_by(key)
    if store.dialect.name == "postgresql":
        with store.connect() as conn:
            conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1")
            result = conn.execution_options(yield_per=LOOKUP_BATCH).execute(ordered)
            for page in result.scalars().partitions():
                yield [str(k) for k in page]
        return
    last = ""
    while True:
        with store.connect() as conn:
            keys = [str(k) for k in conn.scalars(ordered.where(key > last).limit(LOOKUP_BATCH))]
        if not keys:
            return
        yield keys
        last = keys[-1]


def record_state(suite: Suite, key: str, states: Mapping[str, str | None]) -> str:
    if key not in states:
        return "gone"
    return "live" if suite.scope.includes(states[key]) else "out_of_scope"


def stage_volume(source: sa.Engine, store: sa.Engine, suite: Suite, run_id: int) -> None:
    """Records in scope per institution, for the volume guard."""
    inst: sa.ColumnClause[str] = sa.column("inst_code")
    status: sa.ColumnClause[str] = sa.column("status")
    in_scope = suite.scope.sql(status)
    stmt = (
        sa.select(inst, sa.func.count())
        .select_from(sa.table(suite.table, inst, status))
        .where(in_scope)
        .group_by(inst)
    )
    counts: Counter[str] = Counter()
    with source.connect() as conn:
        for code, n in conn.execute(stmt):
            counts[code or ""] += int(n)
    if counts:
        with store.begin() as conn:
            conn.execute(
                sa.insert(RunVolume),
                [{"run_id": run_id, "inst_code": c, "records": n} for c, n in counts.items()],
            )


def source_rows(source: sa.Engine, suite: Suite, record_key: str) -> list[sa.Row[Any]]:
    """The source rows with this key (their status): none, one, or, in a defective source, several."""
    key_col = source_columns(suite.table)[suite.key]
    with source.connect() as conn:
        return list(
            conn.execute(
                sa.select(sa.column("status"))
                .select_from(sa.table(suite.table))
                .where(key_col == record_key)
                .limit(3)
            )
        )


def mark_validated(
    store: sa.Engine,
    run_id: int,
    rule_rows: Sequence[Mapping[str, object]],
    defects: KeyDefects | None,
    **run_values: object,
) -> None:
    """Record each rule's outcome and mark the run validated, in one transaction; alert source defects."""
    with store.begin() as conn:
        conn.execute(sa.insert(CheckRunRule), list(rule_rows))
        conn.execute(
            sa.update(CheckRun)
            .where(CheckRun.id == run_id)
            .values(
                status=RunStatus.VALIDATED,
                heartbeat_at=now(),
                source_defects=defects.as_json() if defects else None,
                **run_values,
            )
        )
        if defects:
            run = conn.execute(
                sa.select(CheckRun.table_name, CheckRun.logical_date).where(CheckRun.id == run_id)
            ).one()
            alert_key_defects(conn, run.table_name, run_id, run.logical_date, defects)


def fail_run(store: sa.Engine, run_id: int, exc: BaseException) -> None:
    message = f"{type(exc).__name__}: {exc}".splitlines()[0][:1000]
    try:
        with store.begin() as conn:
            for model in (Finding, RecordState, RunRecords, RunVolume, DuplicateKey, RunPartition):
                conn.execute(sa.delete(model).where(model.run_id == run_id))
            conn.execute(
                sa.update(CheckRun)
                .where(CheckRun.id == run_id)
                .values(status=RunStatus.FAILED, error=message, finished_at=now())
            )
    except SQLAlchemyError:
        pass  # the store itself is failing; the original error is the one to report
