"""Reconcile a validated check run with the to-dos, set-wise and in one transaction.

Keyed by (rule, table, record key):
- failing, no to-do yet                → open a to-do
- failing, to-do closed                → reopen it (a regression)
- failing, to-do open                  → keep it (last seen moves; a transfer moves the assignee)
- not failing, to-do open, record live → close as *verified fixed*        (only for rules that ran cleanly)
- not failing, record closed or gone   → close as *out of scope* (G1)     (only for rules that ran cleanly)

Every status or assignee change writes a `dq_todo_event` row in the same transaction. Re-running a date
changes nothing: each statement only touches rows whose state differs from what the findings say.
A run older than the newest reconciled run of its table is marked *superseded* and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations.contract import RECORD_STATUSES
from remediation.models import (
    CheckRun,
    CheckRunRule,
    Finding,
    RecordState,
    RuleRecord,
    RunStatus,
    Todo,
    TodoEvent,
    TodoStatus,
)

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
                CheckRun.table_name == run.table_name, CheckRun.status == RunStatus.RECONCILED
            )
        )
        if newer is not None and newer > run.logical_date:
            conn.execute(
                sa.update(CheckRun)
                .where(CheckRun.id == run_id)
                .values(status=RunStatus.SUPERSEDED, finished_at=dt.datetime.now(dt.UTC))
            )
            return ReconcileSummary(run_id, RunStatus.SUPERSEDED)
        summary = _apply(conn, run_id, run.table_name, run.logical_date)
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
        # staging of earlier runs of this table is no longer needed
        older = sa.select(CheckRun.id).where(CheckRun.table_name == run.table_name, CheckRun.id < run_id)
        conn.execute(sa.delete(Finding).where(Finding.run_id.in_(older)))
        conn.execute(sa.delete(RecordState).where(RecordState.run_id.in_(older)))
        return summary


def _apply(conn: sa.Connection, run_id: int, table: str, day: dt.date) -> ReconcileSummary:
    at = sa.literal(dt.datetime.now(dt.UTC), sa.DateTime(timezone=True))
    system = sa.literal("system")
    f = cast(sa.Table, Finding.__table__).alias("f")
    t = cast(sa.Table, Todo.__table__)
    this_run = f.c.run_id == run_id
    match = sa.and_(this_run, f.c.rule_id == t.c.rule_id, f.c.record_key == t.c.record_key)
    found = sa.exists().where(match)

    def from_finding(col: ColumnElement[Any]) -> sa.ScalarSelect[Any]:
        return sa.select(col).where(match).scalar_subquery()

    # 1. reopen regressions
    reopen_where = sa.and_(t.c.table_name == table, t.c.status.in_(CLOSED), found)
    conn.execute(
        _event_insert(
            sa.select(
                t.c.id,
                sa.literal(run_id),
                at,
                system,
                sa.literal("reopened"),
                t.c.status,
                sa.literal(TodoStatus.OPEN.value),
                sa.literal(None, sa.Text),
            ).where(reopen_where)
        )
    )
    reopened = conn.execute(
        sa.update(t)
        .where(reopen_where)
        .values(
            status=TodoStatus.OPEN,
            closed_on=None,
            reopen_count=t.c.reopen_count + 1,
            transition_run_id=run_id,
            last_seen=day,
            masked_value=from_finding(f.c.masked_value),
        )
    ).rowcount

    # 2. keep still-failing ones current; move them when the record changed hands (a transfer)
    moved = sa.exists().where(match, f.c.assignee_staff_id.is_distinct_from(t.c.assignee_staff_id))
    move_where = sa.and_(t.c.table_name == table, t.c.status == TodoStatus.OPEN, moved)
    conn.execute(
        _event_insert(
            sa.select(
                t.c.id,
                sa.literal(run_id),
                at,
                system,
                sa.literal("reassigned"),
                t.c.status,
                t.c.status,
                sa.func.coalesce(t.c.assignee_staff_id, "-")
                + " -> "
                + sa.func.coalesce(from_finding(f.c.assignee_staff_id), "-"),
            ).where(move_where)
        )
    )
    reassigned = conn.execute(
        sa.update(t)
        .where(move_where)
        .values(
            assignee_staff_id=from_finding(f.c.assignee_staff_id),
            routed_to_head=from_finding(f.c.routed_to_head),
            mgr_staff_id=from_finding(f.c.mgr_staff_id),
            inst_code=from_finding(f.c.inst_code),
        )
    ).rowcount
    stale = sa.exists().where(
        match,
        sa.or_(
            t.c.last_seen != day,
            f.c.masked_value.is_distinct_from(t.c.masked_value),
            f.c.inst_code.is_distinct_from(t.c.inst_code),
        ),
    )
    conn.execute(
        sa.update(t)
        .where(t.c.table_name == table, t.c.status == TodoStatus.OPEN, stale)
        .values(
            last_seen=day,
            masked_value=from_finding(f.c.masked_value),
            inst_code=from_finding(f.c.inst_code),
            mgr_staff_id=from_finding(f.c.mgr_staff_id),
        )
    )

    # 3. open new to-dos
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
                system,
                sa.literal("opened"),
                sa.literal(None, sa.String),
                t.c.status,
                sa.literal(None, sa.Text),
            ).where(t.c.opened_run_id == run_id)
        )
    )

    # 4. close what no longer fails, for rules that ran cleanly on this run
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
    base = sa.and_(t.c.table_name == table, t.c.status == TodoStatus.OPEN, t.c.rule_id.in_(closable), ~found)
    counts: dict[str, int] = {}
    for new_status, where in (
        (TodoStatus.OUT_OF_SCOPE, sa.and_(base, gone_or_closed)),
        (TodoStatus.FIXED, base),
    ):
        conn.execute(
            _event_insert(
                sa.select(
                    t.c.id,
                    sa.literal(run_id),
                    at,
                    system,
                    sa.literal(new_status.value),
                    t.c.status,
                    sa.literal(new_status.value),
                    sa.literal(None, sa.Text),
                ).where(where)
            )
        )
        counts[new_status] = conn.execute(
            sa.update(t).where(where).values(status=new_status, closed_on=day, transition_run_id=run_id)
        ).rowcount

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
