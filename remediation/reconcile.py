"""Reconcile a validated check run with the to-dos, set-wise and in one transaction.

Keyed by (rule, table, record key):
- failing, no to-do yet                  → open a to-do, due N working days later (policy, by severity)
- failing, to-do fixed or out of scope   → reopen it (a regression), with a new due date
- failing, to-do exempted, values changed or exemption expired → the exemption lapses, reopen
- failing, to-do pending verification    → back to open: the check refutes "fixed"
- failing, to-do open                    → keep it (last seen moves; a transfer moves the assignee)
- not failing, record live               → close as *verified fixed*   (only for rules that ran cleanly)
- not failing, record closed or gone     → close as *out of scope* (G1) (only for rules that ran cleanly)

Every status or assignee change writes a `dq_todo_event` row in the same transaction. Re-running a date
changes nothing: each statement only touches rows whose state differs from what the findings say.
A run older than the newest reconciled run of its table is marked *superseded* and changes nothing.
A targeted re-check (`dq_check_run.record_key` set) reconciles that one record's to-dos only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations.contract import RECORD_STATUSES
from remediation.models import (
    ACTIVE_STATUSES,
    Card,
    CheckRun,
    CheckRunRule,
    Exemption,
    Finding,
    RecordState,
    RuleRecord,
    RunStatus,
    Todo,
    TodoEvent,
    TodoStatus,
)
from remediation.policy import current_policy
from remediation.workdays import WorkdayCalendar

CLOSED = (TodoStatus.FIXED.value, TodoStatus.OUT_OF_SCOPE.value)


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


def _event_insert(select: sa.Select[Any]) -> sa.Insert:
    return sa.insert(TodoEvent).from_select(
        ["todo_id", "run_id", "at", "actor", "event", "from_status", "to_status", "detail"], select
    )


def reconcile_run(store: sa.Engine, run_id: int) -> ReconcileSummary:
    with store.begin() as conn:
        run = conn.execute(sa.select(CheckRun).where(CheckRun.id == run_id)).one()
        if run.status == RunStatus.RECONCILED:
            return ReconcileSummary(
                run_id,
                run.status,
                run.opened,
                run.reopened,
                run.kept,
                run.fixed,
                run.out_of_scope,
                run.reassigned,
            )
        if run.status != RunStatus.VALIDATED:
            raise ValueError(f"check run {run_id} is {run.status}, not validated: nothing to reconcile")
        newer = conn.scalar(
            sa.select(sa.func.max(CheckRun.logical_date)).where(
                CheckRun.table_name == run.table_name,
                CheckRun.status == RunStatus.RECONCILED,
                CheckRun.record_key.is_(None),
            )
        )
        if newer is not None and newer > run.logical_date:
            conn.execute(
                sa.update(CheckRun)
                .where(CheckRun.id == run_id)
                .values(status=RunStatus.SUPERSEDED, finished_at=dt.datetime.now(dt.UTC))
            )
            return ReconcileSummary(run_id, RunStatus.SUPERSEDED)
        summary = _apply(conn, run_id, run.table_name, run.logical_date, run.record_key)
        conn.execute(
            sa.update(CheckRun)
            .where(CheckRun.id == run_id)
            .values(
                status=RunStatus.RECONCILED,
                finished_at=dt.datetime.now(dt.UTC),
                opened=summary.opened,
                reopened=summary.reopened,
                kept=summary.kept,
                fixed=summary.fixed,
                out_of_scope=summary.out_of_scope,
                reassigned=summary.reassigned,
            )
        )
        # staging of earlier runs of this table is no longer needed (a targeted re-check keeps its own only)
        older = sa.select(CheckRun.id).where(CheckRun.table_name == run.table_name, CheckRun.id < run_id)
        if run.record_key is not None:
            older = sa.select(sa.literal(-1))
        conn.execute(sa.delete(Finding).where(Finding.run_id.in_(older)))
        conn.execute(sa.delete(RecordState).where(RecordState.run_id.in_(older)))
        return summary


def _apply(
    conn: sa.Connection, run_id: int, table: str, day: dt.date, record_key: str | None
) -> ReconcileSummary:
    at = sa.literal(dt.datetime.now(dt.UTC), sa.DateTime(timezone=True))
    f = cast(sa.Table, Finding.__table__).alias("f")
    t = cast(sa.Table, Todo.__table__)
    this_run = f.c.run_id == run_id
    match = sa.and_(this_run, f.c.rule_id == t.c.rule_id, f.c.record_key == t.c.record_key)
    found = sa.exists().where(match)
    # a targeted re-check (one record) may only touch that record's to-dos
    of_table = (
        t.c.table_name == table
        if record_key is None
        else sa.and_(t.c.table_name == table, t.c.record_key == record_key)
    )
    active = t.c.status.in_(ACTIVE_STATUSES)
    due = due_date_for_rules(conn, table, day)

    def due_for(rule_col: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.case(due, value=rule_col, else_=None) if due else sa.null()

    def from_finding(col: ColumnElement[Any]) -> sa.ScalarSelect[Any]:
        return sa.select(col).where(match).correlate(t).scalar_subquery()

    def transition(
        where: ColumnElement[bool],
        event: str,
        to_status: str | None,
        values: dict[str, Any],
        detail: ColumnElement[Any] | None = None,
    ) -> int:
        """Log an event for every to-do matching `where`, then change them; returns how many."""
        to = sa.literal(to_status, sa.String) if to_status else t.c.status
        conn.execute(
            _event_insert(
                sa.select(
                    t.c.id,
                    sa.literal(run_id),
                    at,
                    sa.literal("system"),
                    sa.literal(event),
                    t.c.status,
                    to,
                    detail if detail is not None else sa.literal(None, sa.Text),
                ).where(where)
            )
        )
        return conn.execute(sa.update(t).where(where).values(**values)).rowcount

    # 1. exemptions that no longer hold: the values changed, or the exemption expired
    e = cast(sa.Table, Exemption.__table__)
    held = e.alias("held")  # its own alias: inside UPDATE dq_exemption it must not correlate to the target
    seen = cast(sa.Table, Finding.__table__).alias("seen")
    holds = (
        sa.select(held.c.id)
        .where(
            held.c.todo_id == t.c.id,
            held.c.status == "active",
            held.c.expires_on >= day,
            seen.c.run_id == run_id,
            seen.c.rule_id == t.c.rule_id,
            seen.c.record_key == t.c.record_key,
            held.c.value_hash == seen.c.value_hash,
        )
        .correlate(t)
        .exists()
    )
    lapsing = sa.and_(of_table, t.c.status == TodoStatus.EXEMPTED, found, ~holds)
    lapsing_ids = sa.select(t.c.id).where(lapsing)
    conn.execute(
        sa.update(e)
        .where(e.c.status == "active", e.c.todo_id.in_(lapsing_ids))
        .values(status=sa.case((e.c.expires_on < day, "expired"), else_="lapsed"), ended_on=day)
    )
    reopen_values = {
        "status": TodoStatus.OPEN,
        "closed_on": None,
        "reopen_count": t.c.reopen_count + 1,
        "transition_run_id": run_id,
        "last_seen": day,
        "masked_value": from_finding(f.c.masked_value),
        "value_hash": from_finding(f.c.value_hash),
        "due_date": due_for(t.c.rule_id),
        "card": Card.NONE,
    }
    reopened = transition(lapsing, "exemption_lapsed", TodoStatus.OPEN, reopen_values)

    # 2. reopen regressions
    regressed = sa.and_(of_table, t.c.status.in_(CLOSED), found)
    reopened += transition(regressed, "reopened", TodoStatus.OPEN, reopen_values)

    # 3. "fixed" said the account manager, but the check still fails
    refuted = sa.and_(of_table, t.c.status == TodoStatus.PENDING_VERIFICATION, found)
    transition(
        refuted,
        "verification_failed",
        TodoStatus.OPEN,
        {"status": TodoStatus.OPEN, "transition_run_id": run_id},
    )

    # 4. keep still-failing ones current; move them when the record changed hands (a transfer)
    moved = sa.exists().where(match, f.c.assignee_staff_id.is_distinct_from(t.c.assignee_staff_id))
    reassigned = transition(
        sa.and_(of_table, active, moved),
        "reassigned",
        None,
        {
            "assignee_staff_id": from_finding(f.c.assignee_staff_id),
            "routed_to_head": from_finding(f.c.routed_to_head),
            "mgr_staff_id": from_finding(f.c.mgr_staff_id),
            "inst_code": from_finding(f.c.inst_code),
        },
        detail=sa.func.coalesce(t.c.assignee_staff_id, "-")
        + " -> "
        + sa.func.coalesce(from_finding(f.c.assignee_staff_id), "-"),
    )
    stale = sa.exists().where(
        match,
        sa.or_(
            t.c.last_seen != day,
            f.c.masked_value.is_distinct_from(t.c.masked_value),
            f.c.inst_code.is_distinct_from(t.c.inst_code),
            f.c.value_hash.is_distinct_from(t.c.value_hash),
        ),
    )
    conn.execute(
        sa.update(t)
        .where(of_table, t.c.status.in_([*ACTIVE_STATUSES, TodoStatus.EXEMPTED.value]), stale)
        .values(
            last_seen=day,
            masked_value=from_finding(f.c.masked_value),
            value_hash=from_finding(f.c.value_hash),
            inst_code=from_finding(f.c.inst_code),
            mgr_staff_id=from_finding(f.c.mgr_staff_id),
        )
    )

    # 5. open new to-dos
    r = cast(sa.Table, RuleRecord.__table__)
    exists_todo = (
        sa.select(t.c.id)
        .where(t.c.rule_id == f.c.rule_id, t.c.table_name == f.c.table_name, t.c.record_key == f.c.record_key)
        .exists()
    )
    new_rows = (
        sa.select(
            f.c.rule_id,
            f.c.table_name,
            f.c.record_key,
            sa.literal(TodoStatus.OPEN.value),
            r.c.clauses,
            r.c.columns,
            r.c.severity,
            f.c.inst_code,
            f.c.mgr_staff_id,
            f.c.assignee_staff_id,
            f.c.routed_to_head,
            f.c.masked_value,
            sa.literal(day, sa.Date),
            sa.literal(day, sa.Date),
            sa.literal(0),
            sa.literal(run_id),
            sa.literal(run_id),
            due_for(f.c.rule_id),
            sa.literal(Card.NONE.value),
            f.c.record_created,
            f.c.value_hash,
        )
        .select_from(f.join(r, r.c.rule_id == f.c.rule_id))
        .where(this_run, ~exists_todo)
    )
    conn.execute(
        sa.insert(t).from_select(
            [
                "rule_id",
                "table_name",
                "record_key",
                "status",
                "clause",
                "columns",
                "severity",
                "inst_code",
                "mgr_staff_id",
                "assignee_staff_id",
                "routed_to_head",
                "masked_value",
                "first_seen",
                "last_seen",
                "reopen_count",
                "opened_run_id",
                "transition_run_id",
                "due_date",
                "card",
                "record_created",
                "value_hash",
            ],
            new_rows,
        )
    )
    opened = conn.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.opened_run_id == run_id)) or 0
    conn.execute(
        _event_insert(
            sa.select(
                t.c.id,
                sa.literal(run_id),
                at,
                sa.literal("system"),
                sa.literal("opened"),
                sa.literal(None, sa.String),
                t.c.status,
                sa.literal(None, sa.Text),
            ).where(t.c.opened_run_id == run_id)
        )
    )

    # 6. close what no longer fails, for rules that ran cleanly on this run
    closable = sa.select(CheckRunRule.rule_id).where(
        CheckRunRule.run_id == run_id, CheckRunRule.status == "ok"
    )
    out_statuses = [s for s in RECORD_STATUSES[table] if s == "closed"]
    state = cast(sa.Table, RecordState.__table__)
    gone_or_closed = (
        sa.select(state.c.record_key)
        .where(
            state.c.run_id == run_id,
            state.c.record_key == t.c.record_key,
            sa.or_(state.c.status.is_(None), state.c.status.in_(out_statuses)),
        )
        .exists()
    )
    closing = t.c.status.in_([*ACTIVE_STATUSES, TodoStatus.EXEMPTED.value])
    base = sa.and_(of_table, closing, t.c.rule_id.in_(closable), ~found)
    conn.execute(  # an exemption ends with its to-do
        sa.update(e)
        .where(e.c.status == "active", e.c.todo_id.in_(sa.select(t.c.id).where(base)))
        .values(status="lapsed", ended_on=day)
    )
    counts: dict[str, int] = {}
    for new_status, where in (
        (TodoStatus.OUT_OF_SCOPE, sa.and_(base, gone_or_closed)),
        (TodoStatus.FIXED, base),
    ):
        counts[new_status] = transition(
            where,
            new_status.value,
            new_status.value,
            {"status": new_status, "closed_on": day, "transition_run_id": run_id, "card": Card.NONE},
        )

    findings = conn.scalar(sa.select(sa.func.count()).select_from(f).where(this_run)) or 0
    return ReconcileSummary(
        run_id=run_id,
        status=RunStatus.RECONCILED,
        opened=opened,
        reopened=reopened,
        kept=findings - opened - reopened,
        fixed=counts[TodoStatus.FIXED],
        out_of_scope=counts[TodoStatus.OUT_OF_SCOPE],
        reassigned=reassigned,
    )


def due_date_for_rules(conn: sa.Connection, table: str, day: dt.date) -> dict[str, dt.date]:
    """Rule id → the due date of a to-do opened (or reopened) on `day`, by the policy in force."""
    policy = current_policy()
    calendar = WorkdayCalendar()
    rules = conn.execute(
        sa.select(RuleRecord.rule_id, RuleRecord.severity).where(RuleRecord.table_name == table)
    )
    return {rule_id: calendar.add(day, policy.due_days(rule_id, severity)) for rule_id, severity in rules}
