"""One check run of one record type: verify the source → sync org → validate (GX + key extraction) → reconcile.

`validate` only appends to staging tables under a new check run; `reconcile` applies the staged findings
to the to-dos in one transaction. A crash between or inside them leaves the to-dos as they were.
The DAG runs the steps as separate tasks; `run_suite` runs them in-process for the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations.kinds import CheckContext
from expectations.reference import reference_versions
from expectations.rulebook import Suite
from expectations.runner import (
    GxValidation,
    RuleOutcome,
    count_records,
    failing_records,
    validate_with_gx,
)
from remediation.checks.incremental import (
    FULL,
    Plan,
    evaluated_keys,
    plan_run,
    scope_where,
    subset_where,
)
from remediation.checks.keydefects import KeyDefects, find_key_defects
from remediation.checks.reconcile.run import ReconcileSummary, reconcile_run
from remediation.checks.routing import OrgSummary, sync_org
from remediation.checks.staging import (
    Extracted,
    fail_run,
    mark_validated,
    source_rows,
    stage_failing,
    stage_record_states,
    stage_volume,
    start_run,
    sync_rules,
)
from remediation.checks.sweep import heartbeat, sweep_runs
from remediation.checks.volume import VolumeGuardTripped
from remediation.clock import refuse_future
from remediation.errors import AmbiguousKey, NotFound
from remediation.lifecycle import Lifecycle
from remediation.store.engines import safe_url
from remediation.store.source import open_source, verify_contract
from remediation.workflow.campaigns import ensure_default_campaign, stage_record_counts

__all__ = [
    "Measured",
    "RunSummary",
    "ValidateSummary",
    "conclude",
    "measure",
    "open_run",
    "open_source",
    "run_checks",
    "run_suite",
    "validate",
    "validate_record",
]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


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
    mode: str = FULL  # full | incremental (remediation.checks.incremental)
    records_evaluated: int = 0  # records the rules ran on


def validate(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    check_date: dt.date,
    trigger: str = "cli",
    progress: Progress = _quiet,
    today: dt.date | None = None,
    mode: str = FULL,
) -> ValidateSummary:
    """Run the suite and stage its findings under a new check run. Does not touch the to-dos.

    A check date after `today` (Asia/Shanghai) is refused, and the source's table verified against the
    contract, before anything is written. Runs left behind by dead processes are swept to *abandoned* first.
    (`remediation.checks.partitions` does the same in steps, the extraction split into key ranges.)
    `mode` (`full`, `incremental`, `auto`: `remediation.checks.incremental`) says which records are evaluated;
    the counts, the volume guard's figures and the key defects always cover the whole table.
    """
    run_id, plan = open_run(source, store, suite, check_date, trigger, today, mode)
    ctx = CheckContext(check_date=check_date)
    try:
        with heartbeat(store, run_id):
            measured = measure(source, store, suite, run_id, ctx, progress, plan)
            failing = failing_records(source, suite, ctx, where=measured.where)
            skipped = measured.defects.duplicate_keys
            extracted = stage_failing(store, suite, failing, run_id, progress, skipped)
            summary = conclude(source, store, suite, run_id, check_date, measured, extracted)
    except BaseException as exc:
        fail_run(store, run_id, exc)
        raise
    return summary


@dataclass(frozen=True)
class Measured:
    """What a run knows before the extraction: record counts, the source's key defects, GX's counts."""

    records_total: int
    records_in_scope: int
    defects: KeyDefects
    gx: GxValidation
    mode: str = FULL
    where: Sequence[ColumnElement[bool]] = ()  # the records the rules run on (all of them: none)
    evaluated: frozenset[str] | None = None  # their keys, when not all of them

    @property
    def records_evaluated(self) -> int:
        return self.records_total if self.evaluated is None else len(self.evaluated)


def open_run(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    check_date: dt.date,
    trigger: str,
    today: dt.date | None = None,
    mode: str = FULL,
) -> tuple[int, Plan]:
    """Refuse a future date, verify the contract, sweep dead runs, sync the rules, plan which records the
    run evaluates (`mode`); a new validating run and its plan."""
    refuse_future(check_date, "check date", today)
    verify_contract(source, [suite.table])
    sweep_runs(store)
    sync_rules(store, suite)
    ensure_default_campaign(store, check_date)
    plan = plan_run(source, store, suite, check_date, mode)
    return start_run(store, suite, check_date, trigger, source, run_values=plan.run_values()), plan


def measure(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    run_id: int,
    ctx: CheckContext,
    progress: Progress,
    plan: Plan,
) -> Measured:
    """Count and stage the records (per institution, for the volume guard), the key defects; pick the
    records the plan evaluates and validate them with GX."""
    total, in_scope = count_records(source, suite)
    stage_record_counts(source, store, suite, run_id)
    stage_volume(source, store, suite, run_id)
    defects = find_key_defects(source, store, suite, run_id)
    where = scope_where(suite, plan, ctx.check_date, source.dialect)
    evaluated = evaluated_keys(source, suite, where) if plan.incremental else None
    if evaluated is not None:
        where = subset_where(suite, evaluated, where, source.dialect)
    n_evaluated = total if evaluated is None else len(evaluated)
    progress(f"{suite.table}: {plan.mode} run ({plan.reason}): validating {n_evaluated} of {total} records")
    gx = validate_with_gx(source, suite, ctx, where)
    return Measured(total, in_scope, defects, gx, plan.mode, tuple(where), evaluated)


def conclude(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    run_id: int,
    check_date: dt.date,
    measured: Measured,
    extracted: Extracted,
) -> ValidateSummary:
    """Compare GX's count per rule with the extracted one, stage the state of records whose to-dos may close
    (rules whose counts agree), and mark the run validated."""
    gx = measured.gx
    outcomes: list[RuleOutcome] = []
    for rule in suite.rules:
        outcome = gx.outcomes.get(rule.id) or RuleOutcome(rule.id, error="GX returned no result")
        outcome.extracted = extracted.per_rule[rule.id]
        outcomes.append(outcome)
    closable = [o.rule_id for o in outcomes if o.status == "ok"]
    stage_record_states(source, store, suite, run_id, closable, evaluated=measured.evaluated)
    findings = sum(o.extracted for o in outcomes)
    mark_validated(
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
        measured.defects,
        records_total=measured.records_total,
        records_in_scope=measured.records_in_scope,
        records_evaluated=measured.records_evaluated,
        failing_records=extracted.records,
        findings=findings,
        gx_success=gx.success,
        gx_seconds=round(gx.seconds, 3),
        versions=json.dumps({"great_expectations": gx.gx_version, **reference_versions()}),
    )
    return ValidateSummary(
        run_id=run_id,
        table=suite.table,
        check_date=check_date,
        records_total=measured.records_total,
        records_in_scope=measured.records_in_scope,
        failing_records=extracted.records,
        findings=findings,
        rules_not_closable=tuple(o.rule_id for o in outcomes if o.status != "ok"),
        source_defects=measured.defects.describe(),
        mode=measured.mode,
        records_evaluated=measured.records_evaluated,
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
        raise NotFound(
            f"{suite.table} {record_key!r} does not exist in the source {safe_url(source.url)}",
            code="record_gone",
            table=suite.table,
            key=record_key,
        )
    if len(rows) > 1:
        raise AmbiguousKey(suite.table, record_key, len(rows))
    sync_rules(store, suite)
    run_id = start_run(store, suite, check_date, trigger, source, record_key)
    try:
        failing = list(
            failing_records(source, suite, CheckContext(check_date=check_date), record_key=record_key)
        )
        extracted = stage_failing(store, suite, failing, run_id, _quiet)
        every_rule = [r.id for r in suite.rules]
        stage_record_states(source, store, suite, run_id, every_rule, record_key)
        findings = sum(extracted.per_rule[r] for r in every_rule)
        in_scope = int(suite.scope.includes(rows[0].status))
        mark_validated(
            store,
            run_id,
            [
                {
                    "run_id": run_id,
                    "rule_id": r,
                    "unexpected": None,
                    "extracted": extracted.per_rule[r],
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
        fail_run(store, run_id, exc)
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
    lifecycle: Lifecycle | None = None,
    mode: str = FULL,
) -> RunSummary:
    """Validate and reconcile one suite (what one check DAG does), in this process.

    `today` (default: today in Asia/Shanghai) is the latest check date allowed.
    """
    started = time.perf_counter()
    org = sync_org(source, store) if sync else None
    validation = validate(source, store, suite, check_date, trigger, progress, today=today, mode=mode)
    summary = reconcile_run(
        store, validation.run_id, lifecycle or Lifecycle.in_force(), accepted_by=accepted_by
    )
    return RunSummary(suite.table, check_date, org, validation, summary, time.perf_counter() - started)


def run_checks(
    source: sa.Engine,
    store: sa.Engine,
    suites: Sequence[Suite],
    check_date: dt.date,
    trigger: str = "cli",
    progress: Progress = _quiet,
    accepted_by: str | None = None,
    lifecycle: Lifecycle | None = None,
    mode: str = FULL,
) -> Iterator[RunSummary]:
    """Every suite, all or nothing: the whole source is verified, every suite validated, and only then are
    the runs reconciled, one table at a time. A validation that fails stops the others before any
    reconcile (their runs are marked failed: not applied). The volume guard judges each table on its own:
    the other tables are reconciled, then `VolumeGuardTripped` names every table it stopped.
    """
    refuse_future(check_date, "check date")
    lifecycle = lifecycle or Lifecycle.in_force()
    verify_contract(source, [s.table for s in suites])
    started = time.perf_counter()
    org: OrgSummary | None = sync_org(source, store)
    validated: list[ValidateSummary] = []
    try:
        for suite in suites:
            validated.append(validate(source, store, suite, check_date, trigger, progress, mode=mode))
    except BaseException as exc:
        for v in validated:
            fail_run(store, v.run_id, RuntimeError(f"not applied: the {suite.table} run failed ({exc})"))
        raise
    stopped: list[str] = []
    for v in validated:
        try:
            summary = reconcile_run(store, v.run_id, lifecycle, accepted_by=accepted_by)
        except VolumeGuardTripped as exc:
            stopped.append(str(exc))
            continue
        seconds = time.perf_counter() - started
        yield RunSummary(v.table, check_date, org, v, summary, seconds)
        started, org = time.perf_counter(), None
    if stopped:
        raise VolumeGuardTripped(" | ".join(stopped))
