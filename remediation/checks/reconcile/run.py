"""Reconcile a validated check run with the to-dos, set-wise, in one transaction that holds the table's lock.

Keyed by (rule, table, record key) (`remediation.checks.reconcile.transitions` has one function per transition):
- failing, no to-do yet (or a void one)  → open a to-do, due N working days later (policy, by severity)
- failing, to-do fixed or out of scope   → reopen it (a regression), with a new due date
- failing, to-do gone (record vanished)  → it carries on, with its old due date (the record is back)
- failing, to-do exempted, values changed or exemption expired → the exemption lapses, reopen
- failing, to-do pending verification    → back to open: the check refutes "fixed"
- failing, to-do open                    → keep it (last seen moves; a transfer moves the assignee)
- not failing, record live               → close as *verified fixed*   (only for rules that ran cleanly)
- not failing, record's status closed    → close as *out of scope* (G1) (only for rules that ran cleanly)
- not failing, record not in the extract → close as *gone*              (only for rules that ran cleanly)

Trust comes first (docs/decisions.md, "Closure integrity"):
- One writer per table: the whole reconcile holds `tablelock.lock_table`; a second one waits.
- A run applies only its own staged findings, and only while it is the newest run of its table: a full
  run is *superseded* when a full run of a later date, or of the same date started after it, has been
  reconciled; a targeted re-check when a full run started after it has. A superseded run changes nothing.
  To-dos changed by a newer run (a re-check) are left as that run left them.
- Before a full run applies, the volume guard (`remediation.checks.volume`) compares its records in scope with
  the last reconciled run; a drop beyond the policy's limit stops it (status *failed*, the data office is
  alerted, no to-do changes) unless a person accepted the drop.
- Re-running a date changes nothing: each statement only touches rows whose state differs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from remediation.checks.reconcile import transitions as tr
from remediation.checks.volume import (
    GuardVerdict,
    VolumeGuardTripped,
    accept_drop,
    audit_acceptance,
    judge_volume,
    stop_run,
)
from remediation.clock import now
from remediation.errors import InvalidState, NotFound
from remediation.lifecycle import Lifecycle
from remediation.policy import Policy
from remediation.store.models import (
    CheckRun,
    DuplicateKey,
    Finding,
    RecordState,
    RuleRecord,
    RunStatus,
    Todo,
    TodoBefore,
    TodoStatus,
)
from remediation.store.tablelock import lock_table
from remediation.workdays import WorkdayCalendar

KEEP_BEFORE_IMAGES = 7  # full runs per table that can still be voided one after the other


@dataclass(frozen=True)
class ReconcileSummary:
    run_id: int
    status: str
    opened: int = 0
    reopened: int = 0
    kept: int = 0
    fixed: int = 0
    out_of_scope: int = 0
    reassigned: int = 0
    gone: int = 0


def _stored(run: Any) -> ReconcileSummary:
    return ReconcileSummary(
        run.id,
        run.status,
        run.opened,
        run.reopened,
        run.kept,
        run.fixed,
        run.out_of_scope,
        run.reassigned,
        run.gone,
    )


def refresh_statistics(store: sa.Engine, run_id: int) -> None:
    """ANALYZE the to-dos and the staging tables before a table's run is applied (PostgreSQL).

    Reconcile's statements join the run's staged rows with the to-dos, and the run has just written those
    rows: statistics taken before (autovacuum's, from the last run) say the run has none, statistics
    missing (a store copied or restored, autovacuum not round yet) say the to-dos are a handful. Either way
    PostgreSQL plans nested loops over every to-do: at 100k records a day's reconcile took 40-130 s instead
    of 5-10 s. Outside the reconcile's transaction, so the lock ANALYZE takes is held for its own time only.
    A re-check of one record stages a row or two: it keeps the statistics it has.
    """
    if store.dialect.name != "postgresql":
        return
    with store.connect() as conn:
        if conn.scalar(sa.select(CheckRun.record_key).where(CheckRun.id == run_id)) is not None:
            return
    tables = ", ".join(m.__tablename__ for m in (Todo, Finding, RecordState, DuplicateKey))
    with store.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"ANALYZE {tables}")


def _table_of(store: sa.Engine, run_id: int) -> str:
    with store.connect() as conn:
        table = conn.scalar(sa.select(CheckRun.table_name).where(CheckRun.id == run_id))
    if table is None:
        raise NotFound(f"there is no check run {run_id}", code="run_not_found", run=run_id)
    return str(table)


def newer_run(conn: sa.Connection, run: Any) -> int | None:
    """The id of a reconciled full run that makes `run` stale, if there is one."""
    full = sa.and_(
        CheckRun.table_name == run.table_name,
        CheckRun.status == RunStatus.RECONCILED,
        CheckRun.record_key.is_(None),
        CheckRun.id != run.id,
    )
    if run.record_key is not None:  # a re-check: stale once a full run read the source after it, or is later
        later = sa.or_(CheckRun.id > run.id, CheckRun.logical_date > run.logical_date)
    else:
        later = sa.or_(
            CheckRun.logical_date > run.logical_date,
            sa.and_(CheckRun.logical_date == run.logical_date, CheckRun.id > run.id),
        )
    return conn.scalar(sa.select(sa.func.max(CheckRun.id)).where(full, later))


def reconcile_run(
    store: sa.Engine,
    run_id: int,
    lifecycle: Lifecycle,
    *,
    accepted_by: str | None = None,
    client: str | None = None,
) -> ReconcileSummary:
    """Apply run `run_id`'s staged findings to the to-dos, or say why not.

    A run reconciled already gives its stored summary; a superseded, abandoned or void one gives its
    status and changes nothing (an Airflow retry may call this again safely). `accepted_by` (a member of
    the data office) confirms a drop of records in scope that the volume guard would stop, or stopped.
    Raises `VolumeGuardTripped` after recording the stop, and `InvalidState` for a run that cannot apply.
    """
    policy, calendar = lifecycle.policy, lifecycle.calendar
    table = _table_of(store, run_id)
    refresh_statistics(store, run_id)
    verdict: GuardVerdict | None = None
    with store.begin() as conn:
        lock_table(conn, table)
        run = conn.execute(sa.select(CheckRun).where(CheckRun.id == run_id)).one()
        if run.status == RunStatus.RECONCILED:
            return _stored(run)
        if run.status in (RunStatus.SUPERSEDED, RunStatus.ABANDONED, RunStatus.VOID):
            return ReconcileSummary(run_id, run.status)
        stopped_by_guard = run.status == RunStatus.FAILED and run.guard is not None
        if run.status != RunStatus.VALIDATED and not (stopped_by_guard and accepted_by):
            raise InvalidState(_not_applicable(run), code="run_not_applicable", run=run.id, status=run.status)
        newer = newer_run(conn, run)
        if newer is not None:
            _supersede(conn, run_id, f"superseded by run {newer}")
            return ReconcileSummary(run_id, RunStatus.SUPERSEDED)
        accepted: GuardVerdict | None = None
        if run.record_key is None:
            verdict = judge_volume(conn, run, policy)
            if not verdict.tripped:
                verdict = None
            elif accepted_by is not None:
                accept_drop(conn, run, verdict, accepted_by)
                accepted, verdict = verdict, None
            else:
                stop_run(conn, run, verdict)
        if verdict is None:
            summary = _apply(conn, run, policy, calendar)
            _finish(conn, run, summary)
            if accepted is not None:
                audit_acceptance(conn, run, accepted, accepted_by or "", client)
            return summary
    raise VolumeGuardTripped(verdict.message)


def _not_applicable(run: Any) -> str:
    if run.status == RunStatus.FAILED and run.guard is not None:
        return (
            f"check run {run.id} was stopped by the volume guard: {run.error}; a member of the data office "
            "must accept the drop to apply it"
        )
    if run.status == RunStatus.FAILED:
        return f"check run {run.id} failed ({run.error}): nothing to reconcile; run the check again"
    return f"check run {run.id} is {run.status}, not validated: nothing to reconcile yet"


def _apply(conn: sa.Connection, run: Any, policy: Policy, calendar: WorkdayCalendar) -> ReconcileSummary:
    p = tr.Pass(
        conn,
        run.id,
        run.table_name,
        run.logical_date,
        run.record_key,
        due_dates(conn, run.table_name, run.logical_date, policy, calendar),
        incremental=run.mode == "incremental",
    )
    reopened = tr.lapse_exemptions(p) + tr.reopen_regressions(p) + tr.restore_returned(p)
    tr.refute_claims(p)
    reassigned = tr.reassign_transferred(p)
    tr.refresh_kept(p)
    opened = tr.open_new(p)
    closed = tr.close_passing(p)
    if p.incremental:
        tr.carry_unevaluated(p)
    findings = tr.findings_count(p)
    return ReconcileSummary(
        run_id=run.id,
        status=RunStatus.RECONCILED,
        opened=opened,
        reopened=reopened,
        kept=findings - opened - reopened,
        fixed=closed[TodoStatus.FIXED],
        out_of_scope=closed[TodoStatus.OUT_OF_SCOPE],
        reassigned=reassigned,
        gone=closed[TodoStatus.GONE],
    )


def _finish(conn: sa.Connection, run: Any, summary: ReconcileSummary) -> None:
    """Mark the run reconciled; a full run also retires the older runs of its table and their staging."""
    conn.execute(
        sa.update(CheckRun)
        .where(CheckRun.id == run.id)
        .values(
            status=RunStatus.RECONCILED,
            finished_at=now(),
            opened=summary.opened,
            reopened=summary.reopened,
            kept=summary.kept,
            fixed=summary.fixed,
            out_of_scope=summary.out_of_scope,
            gone=summary.gone,
            reassigned=summary.reassigned,
        )
    )
    if run.record_key is not None:
        return
    older = sa.and_(CheckRun.table_name == run.table_name, CheckRun.id < run.id)
    for stale in conn.scalars(sa.select(CheckRun.id).where(older, CheckRun.status == RunStatus.VALIDATED)):
        _supersede(conn, stale, f"superseded by run {run.id}")
    finished = sa.select(CheckRun.id).where(older, CheckRun.status.not_in([RunStatus.VALIDATING]))
    _drop_staging(conn, finished)
    keep = (
        sa.select(CheckRun.id)
        .where(
            CheckRun.table_name == run.table_name,
            CheckRun.record_key.is_(None),
            CheckRun.status == RunStatus.RECONCILED,
        )
        .order_by(CheckRun.id.desc())
        .limit(KEEP_BEFORE_IMAGES)
    )
    oldest_kept = conn.scalar(sa.select(sa.func.min(keep.subquery().c.id)))
    if oldest_kept is not None:
        of_table = sa.select(CheckRun.id).where(
            CheckRun.table_name == run.table_name, CheckRun.id < oldest_kept
        )
        conn.execute(sa.delete(TodoBefore).where(TodoBefore.run_id.in_(of_table)))


def _supersede(conn: sa.Connection, run_id: int, why: str) -> None:
    conn.execute(
        sa.update(CheckRun)
        .where(CheckRun.id == run_id)
        .values(status=RunStatus.SUPERSEDED, finished_at=now(), error=why)
    )
    _drop_staging(conn, sa.select(sa.literal(run_id)))


def _drop_staging(conn: sa.Connection, runs: sa.Select[Any]) -> None:
    for model in (Finding, RecordState, DuplicateKey):
        conn.execute(sa.delete(model).where(model.run_id.in_(runs)))


def due_dates(
    conn: sa.Connection, table: str, day: dt.date, policy: Policy, calendar: WorkdayCalendar
) -> dict[str, dt.date]:
    """Rule id → the due date of a to-do opened (or reopened) on `day`, by the policy in force."""
    rules = conn.execute(
        sa.select(RuleRecord.rule_id, RuleRecord.severity).where(RuleRecord.table_name == table)
    )
    return {rule_id: calendar.add(day, policy.due_days(rule_id, severity)) for rule_id, severity in rules}
