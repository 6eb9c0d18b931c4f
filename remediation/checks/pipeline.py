"""One check run of one record type: verify the source → sync org → validate (GX + key extraction) → reconcile.

`validate` only appends to staging tables under a new check run; `reconcile` applies the staged findings
to the to-dos in one transaction. A crash between or inside them leaves the to-dos as they were.
The DAG runs the steps as separate tasks; `run_suite` runs them in-process for the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from expectations.compiler import source_columns
from expectations.contract import CREATED_COLUMNS, PRIMARY_KEYS
from expectations.kinds import CheckContext
from expectations.reference import reference_versions
from expectations.rulebook import Suite
from expectations.runner import (
    FailingRecord,
    RuleOutcome,
    count_records,
    failing_records,
    validate_with_gx,
)
from remediation.checks.keydefects import KeyDefects, alert_key_defects, find_key_defects
from remediation.checks.reconcile.run import ReconcileSummary, reconcile_run
from remediation.checks.routing import OrgSummary, load_routing, sync_org
from remediation.checks.sweep import heartbeat, sweep_runs
from remediation.checks.volume import VolumeGuardTripped
from remediation.clock import now, refuse_future
from remediation.errors import AmbiguousKey, NotFound
from remediation.masking import masked_summary, value_hash
from remediation.store.engines import safe_url
from remediation.store.models import (
    CheckRun,
    CheckRunRule,
    DuplicateKey,
    Finding,
    RecordState,
    RuleRecord,
    RunRecords,
    RunStatus,
    RunVolume,
)
from remediation.store.source import open_source, verify_contract
from remediation.store.tablelock import holder
from remediation.workflow.campaigns import ensure_default_campaign, stage_record_counts

__all__ = [
    "RunSummary",
    "ValidateSummary",
    "open_source",
    "run_checks",
    "run_suite",
    "validate",
    "validate_record",
]

Progress = Callable[[str], None]
STAGING_BATCH = 5000
LOOKUP_BATCH = 500


def _quiet(_: str) -> None:
    pass


def sync_rules(store: sa.Engine, suite: Suite) -> None:
    with store.begin() as conn:
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


def _start_run(
    store: sa.Engine,
    suite: Suite,
    check_date: dt.date,
    trigger: str,
    source: sa.Engine,
    record_key: str | None = None,
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
                )
                .returning(CheckRun.id)
            ).scalar_one()
        )


def _stage_failing(
    store: sa.Engine,
    suite: Suite,
    failing: Iterable[FailingRecord],
    run_id: int,
    progress: Progress,
    skipped: frozenset[str] = frozenset(),
) -> Counter[str]:
    """Route and stage every (rule, record) of `failing` as findings of the run; counts per rule id.

    Records without a key, or with a key in `skipped` (shared by several rows), are counted (so the
    counts still match GX's) but not staged: they cannot become to-dos.
    """
    extracted: Counter[str] = Counter()
    created = CREATED_COLUMNS[suite.table]
    with store.connect() as conn:
        routing = load_routing(conn)
    batch: list[dict[str, object]] = []
    records = 0

    def flush() -> None:
        if batch:
            with store.begin() as conn:
                conn.execute(sa.insert(Finding), batch)
            batch.clear()

    for record in failing:
        records += 1
        for rule in record.rules:
            extracted[rule.id] += 1
        if record.record_key is None or record.record_key in skipped:
            continue
        assignee, to_head = routing.route(record.mgr_staff_id, record.inst_code)
        for rule in record.rules:
            batch.append(
                {
                    "run_id": run_id,
                    "rule_id": rule.id,
                    "record_key": record.record_key,
                    "table_name": suite.table,
                    "inst_code": record.inst_code,
                    "mgr_staff_id": record.mgr_staff_id,
                    "assignee_staff_id": assignee,
                    "routed_to_head": to_head,
                    "masked_value": masked_summary(rule.columns, record.values),
                    "record_created": record.values.get(created),
                    "value_hash": value_hash(rule.columns, record.values),
                }
            )
        if len(batch) >= STAGING_BATCH:
            flush()
            progress(f"{suite.table}: {records} failing records staged")
    flush()
    extracted["__records__"] = records
    return extracted


def _stage_record_states(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    run_id: int,
    closable_rules: Sequence[str],
    record_key: str | None = None,
) -> None:
    """Look up, in the source, what became of records whose to-dos reconcile may close (they no longer fail).

    Those are the to-dos reconcile closes: open, pending verification and exempted ones; with `record_key`,
    only that record's. Each record's state is `live`, `out_of_scope` (its status is out of the suite's
    scope, clause G1) or `gone` (no longer in the source).
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
    last = ""
    while True:
        with store.connect() as conn:
            keys = list(
                conn.scalars(
                    sa.select(Todo.record_key)
                    .distinct()
                    .where(
                        Todo.table_name == suite.table,
                        Todo.status.in_(CLOSABLE),
                        of_record,
                        Todo.rule_id.in_(list(closable_rules)),
                        Todo.record_key > last,
                        ~found,
                    )
                    .order_by(Todo.record_key)
                    .limit(LOOKUP_BATCH)
                )
            )
        if not keys:
            return
        with source.connect() as conn:
            rows = conn.execute(sa.select(key_col, src.c.status).where(key_col.in_(keys)))
            states: dict[str, str | None] = {str(k): s for k, s in rows}
        with store.begin() as conn:
            conn.execute(
                sa.insert(RecordState),
                [
                    {
                        "run_id": run_id,
                        "record_key": k,
                        "status": states.get(k),
                        "state": _state(suite, k, states),
                    }
                    for k in keys
                ],
            )
        last = keys[-1]


def _state(suite: Suite, key: str, states: Mapping[str, str | None]) -> str:
    if key not in states:
        return "gone"
    return "live" if suite.scope.includes(states[key]) else "out_of_scope"


def _stage_volume(source: sa.Engine, store: sa.Engine, suite: Suite, run_id: int) -> None:
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


@dataclass(frozen=True)
class ValidateSummary:
    run_id: int
    table: str
    check_date: dt.date
    records_total: int
    records_in_scope: int
    failing_records: int
    findings: int
    rules_not_closable: tuple[str, ...]
    source_defects: str = ""  # what is wrong with the source's keys, if anything


def validate(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    check_date: dt.date,
    trigger: str = "cli",
    progress: Progress = _quiet,
    today: dt.date | None = None,
) -> ValidateSummary:
    """Run the suite and stage its findings under a new check run. Does not touch the to-dos.

    A check date after `today` (Asia/Shanghai) is refused, and the source's table verified against the
    contract, before anything is written. Runs left behind by dead processes are swept to *abandoned* first.
    """
    refuse_future(check_date, "check date", today)
    verify_contract(source, [suite.table])
    sweep_runs(store)
    sync_rules(store, suite)
    ensure_default_campaign(store, check_date)
    run_id = _start_run(store, suite, check_date, trigger, source)
    ctx = CheckContext(check_date=check_date)
    try:
        with heartbeat(store, run_id):
            total, in_scope = count_records(source, suite)
            stage_record_counts(source, store, suite, run_id)
            _stage_volume(source, store, suite, run_id)
            defects = find_key_defects(source, store, suite, run_id)
            progress(f"{suite.table}: validating {in_scope} in-scope records with Great Expectations")
            gx = validate_with_gx(source, suite, ctx)
            extracted = _stage_failing(
                store, suite, failing_records(source, suite, ctx), run_id, progress, defects.duplicate_keys
            )
            outcomes: list[RuleOutcome] = []
            for rule in suite.rules:
                outcome = gx.outcomes.get(rule.id) or RuleOutcome(rule.id, error="GX returned no result")
                outcome.extracted = extracted[rule.id]
                outcomes.append(outcome)
            closable = [o.rule_id for o in outcomes if o.status == "ok"]
            _stage_record_states(source, store, suite, run_id, closable)
            findings = sum(o.extracted for o in outcomes)
            _mark_validated(
                store,
                run_id,
                [
                    {
                        "run_id": run_id,
                        "rule_id": o.rule_id,
                        "unexpected": o.unexpected,
                        "extracted": o.extracted,
                        "status": o.status,
                        "error": o.error,
                    }
                    for o in outcomes
                ],
                defects,
                records_total=total,
                records_in_scope=in_scope,
                failing_records=extracted["__records__"],
                findings=findings,
                gx_success=gx.success,
                gx_seconds=round(gx.seconds, 3),
                versions=json.dumps({"great_expectations": gx.gx_version, **reference_versions()}),
            )
    except BaseException as exc:
        _fail_run(store, run_id, exc)
        raise
    return ValidateSummary(
        run_id=run_id,
        table=suite.table,
        check_date=check_date,
        records_total=total,
        records_in_scope=in_scope,
        failing_records=extracted["__records__"],
        findings=findings,
        rules_not_closable=tuple(o.rule_id for o in outcomes if o.status != "ok"),
        source_defects=defects.describe(),
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


def validate_record(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    record_key: str,
    check_date: dt.date,
    trigger: str = "recheck",
    today: dt.date | None = None,
) -> ValidateSummary:
    """Check one record now, staging the result under a new check run that targets it (`record_key`).

    The rules are the same compiled SQL as `validate`'s extraction, narrowed to the record's key. GX is
    skipped: on one record its count would only repeat the extractor's, so every rule may close (its
    `dq_check_run_rule.unexpected` stays NULL). Org and staff are not synced; routing uses the store's
    mirror. Reconcile then touches only this record's to-dos. A key the source does not have, or has on
    several rows, is an error, raised before anything is written.
    """
    refuse_future(check_date, "check date", today)
    verify_contract(source, [suite.table])
    rows = source_rows(source, suite, record_key)
    if not rows:
        raise NotFound(f"{suite.table} {record_key!r} does not exist in the source {safe_url(source.url)}")
    if len(rows) > 1:
        raise AmbiguousKey(suite.table, record_key, len(rows))
    sync_rules(store, suite)
    run_id = _start_run(store, suite, check_date, trigger, source, record_key)
    try:
        failing = list(
            failing_records(source, suite, CheckContext(check_date=check_date), record_key=record_key)
        )
        extracted = _stage_failing(store, suite, failing, run_id, _quiet)
        every_rule = [r.id for r in suite.rules]
        _stage_record_states(source, store, suite, run_id, every_rule, record_key)
        findings = sum(extracted[r] for r in every_rule)
        in_scope = int(suite.scope.includes(rows[0].status))
        _mark_validated(
            store,
            run_id,
            [
                {
                    "run_id": run_id,
                    "rule_id": r,
                    "unexpected": None,
                    "extracted": extracted[r],
                    "status": "ok",
                }
                for r in every_rule
            ],
            None,
            records_total=1,
            records_in_scope=in_scope,
            failing_records=len(failing),
            findings=findings,
            versions=json.dumps(reference_versions()),
        )
    except BaseException as exc:
        _fail_run(store, run_id, exc)
        raise
    return ValidateSummary(
        run_id=run_id,
        table=suite.table,
        check_date=check_date,
        records_total=1,
        records_in_scope=in_scope,
        failing_records=len(failing),
        findings=findings,
        rules_not_closable=(),
    )


def _mark_validated(
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


def _fail_run(store: sa.Engine, run_id: int, exc: BaseException) -> None:
    message = f"{type(exc).__name__}: {exc}".splitlines()[0][:1000]
    try:
        with store.begin() as conn:
            for model in (Finding, RecordState, RunRecords, RunVolume, DuplicateKey):
                conn.execute(sa.delete(model).where(model.run_id == run_id))
            conn.execute(
                sa.update(CheckRun)
                .where(CheckRun.id == run_id)
                .values(status=RunStatus.FAILED, error=message, finished_at=now())
            )
    except SQLAlchemyError:
        pass  # the store itself is failing; the original error is the one to report


@dataclass(frozen=True)
class RunSummary:
    table: str
    check_date: dt.date
    org: OrgSummary | None
    validation: ValidateSummary
    reconcile: ReconcileSummary
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def run_suite(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    check_date: dt.date,
    trigger: str = "cli",
    progress: Progress = _quiet,
    sync: bool = True,
    accepted_by: str | None = None,
    today: dt.date | None = None,
) -> RunSummary:
    """Validate and reconcile one suite (what one check DAG does), in this process.

    `today` (default: today in Asia/Shanghai) is the latest check date allowed.
    """
    started = time.perf_counter()
    org = sync_org(source, store) if sync else None
    validation = validate(source, store, suite, check_date, trigger, progress, today=today)
    summary = reconcile_run(store, validation.run_id, accepted_by=accepted_by)
    return RunSummary(suite.table, check_date, org, validation, summary, time.perf_counter() - started)


def run_checks(
    source: sa.Engine,
    store: sa.Engine,
    suites: Sequence[Suite],
    check_date: dt.date,
    trigger: str = "cli",
    progress: Progress = _quiet,
    accepted_by: str | None = None,
) -> Iterator[RunSummary]:
    """Every suite, all or nothing: the whole source is verified, every suite validated, and only then are
    the runs reconciled, one table at a time. A validation that fails stops the others before any
    reconcile (their runs are marked failed: not applied). The volume guard judges each table on its own:
    the other tables are reconciled, then `VolumeGuardTripped` names every table it stopped.
    """
    refuse_future(check_date, "check date")
    verify_contract(source, [s.table for s in suites])
    started = time.perf_counter()
    org: OrgSummary | None = sync_org(source, store)
    validated: list[ValidateSummary] = []
    try:
        for suite in suites:
            validated.append(validate(source, store, suite, check_date, trigger, progress))
    except BaseException as exc:
        for v in validated:
            _fail_run(store, v.run_id, RuntimeError(f"not applied: the {suite.table} run failed ({exc})"))
        raise
    stopped: list[str] = []
    for v in validated:
        try:
            summary = reconcile_run(store, v.run_id, accepted_by=accepted_by)
        except VolumeGuardTripped as exc:
            stopped.append(str(exc))
            continue
        seconds = time.perf_counter() - started
        yield RunSummary(v.table, check_date, org, v, summary, seconds)
        started, org = time.perf_counter(), None
    if stopped:
        raise VolumeGuardTripped(" | ".join(stopped))
