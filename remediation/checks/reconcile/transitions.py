"""The to-do transitions of one reconcile, each one set-based statement (or two) over the run's staging.

Keyed by (rule, table, record key); `Pass` holds what every transition shares. Every status or assignee
change writes a `dq_todo_event` and, first, the to-do's before-image (`dq_todo_before`), so that voiding
the run can put it back. A transition only touches to-dos of the pass's scope (`Pass.mine`): the run's
table (one record on a targeted re-check), not keyed by a duplicate key of this run, and not changed
since by a newer run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from remediation.clock import now
from remediation.store.events import log_events
from remediation.store.models import (
    ACTIVE_STATUSES,
    TODO_STATE_COLUMNS,
    Card,
    CheckRunRule,
    DuplicateKey,
    Finding,
    RecordState,
    RuleRecord,
    Staff,
    Todo,
    TodoBefore,
    TodoStatus,
)
from remediation.store.workflow_models import Exemption

t = cast(sa.Table, Todo.__table__)
e = cast(sa.Table, Exemption.__table__)
CLOSED = (TodoStatus.FIXED.value, TodoStatus.OUT_OF_SCOPE.value)  # found failing again: a regression
CLOSABLE = (*ACTIVE_STATUSES, TodoStatus.EXEMPTED.value)  # what a passing check may close


@dataclass
class Pass:
    """One reconcile of run `run_id` (of `table`, for `day`; one record when `record_key` is set)."""

    conn: sa.Connection
    run_id: int
    table: str
    day: dt.date
    record_key: str | None
    due: Mapping[str, dt.date]  # rule id → due date of a to-do (re)opened on `day`
    incremental: bool = False  # the run evaluated only some records (`remediation.checks.incremental`)
    at: dt.datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        self.f = cast(sa.Table, Finding.__table__).alias("f")
        self.this_run = self.f.c.run_id == self.run_id
        self.match = sa.and_(
            self.this_run, self.f.c.rule_id == t.c.rule_id, self.f.c.record_key == t.c.record_key
        )
        self.found = sa.exists().where(self.match)
        duplicate = (
            sa.select(DuplicateKey.record_key)
            .where(DuplicateKey.run_id == self.run_id, DuplicateKey.record_key == t.c.record_key)
            .exists()
        )
        scope = [t.c.table_name == self.table, ~duplicate, t.c.transition_run_id <= self.run_id]
        if self.record_key is not None:
            scope.append(t.c.record_key == self.record_key)
        self.mine = sa.and_(*scope)

    def due_for(self, rule_col: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.case(dict(self.due), value=rule_col, else_=None) if self.due else sa.null()

    def from_finding(self, col: ColumnElement[Any]) -> sa.ScalarSelect[Any]:
        return sa.select(col).where(self.match).correlate(t).scalar_subquery()

    def remember(self, where: ColumnElement[bool]) -> None:
        """Keep the before-image of every to-do matching `where` (the first change of this run wins)."""
        kept = (
            sa.select(TodoBefore.todo_id)
            .where(TodoBefore.run_id == self.run_id, TodoBefore.todo_id == t.c.id)
            .exists()
        )
        columns = [t.c[name] for name in TODO_STATE_COLUMNS]
        self.conn.execute(
            sa.insert(TodoBefore).from_select(
                ["run_id", "todo_id", *TODO_STATE_COLUMNS],
                sa.select(sa.literal(self.run_id), t.c.id, *columns).where(where, ~kept),
            )
        )

    def log(
        self,
        where: ColumnElement[bool],
        event: str,
        to_status: ColumnElement[Any],
        detail: ColumnElement[Any] | None = None,
        from_status: ColumnElement[Any] | None = None,
    ) -> None:
        log_events(
            self.conn,
            where,
            event,
            run_id=self.run_id,
            to_status=to_status,
            from_status=from_status,
            detail=detail,
            at=self.at,
        )

    def transition(
        self,
        where: ColumnElement[bool],
        event: str,
        to_status: str | None,
        values: Mapping[str, Any],
        detail: ColumnElement[Any] | None = None,
    ) -> int:
        """Remember, log an event for, then change every to-do matching `where`; returns how many."""
        self.remember(where)
        self.log(where, event, sa.literal(to_status, sa.String) if to_status else t.c.status, detail)
        return int(self.conn.execute(sa.update(t).where(where).values(**values)).rowcount)

    def reopen_values(self) -> dict[str, Any]:
        return {
            "status": TodoStatus.OPEN,
            "closed_on": None,
            "reopen_count": t.c.reopen_count + 1,
            "transition_run_id": self.run_id,
            "last_seen": self.day,
            "masked_value": self.from_finding(self.f.c.masked_value),
            "value_hash": self.from_finding(self.f.c.value_hash),
            "due_date": self.due_for(t.c.rule_id),
            "card": Card.NONE,
        }


def end_exemptions(p: Pass, todos: ColumnElement[bool], status: ColumnElement[Any] | str) -> None:
    """End the active exemptions of the to-dos matching `todos`, noting this run as the one that did."""
    p.conn.execute(
        sa.update(e)
        .where(e.c.status == "active", e.c.todo_id.in_(sa.select(t.c.id).where(todos)))
        .values(status=status, ended_on=p.day, ended_by_run_id=p.run_id)
    )


def lapse_exemptions(p: Pass) -> int:
    """Exempted, failing, and the exemption no longer holds (values changed, or it expired): reopen."""
    held = e.alias("held")  # its own alias: inside UPDATE dq_exemption it must not correlate to the target
    seen = cast(sa.Table, Finding.__table__).alias("seen")
    holds = (
        sa.select(held.c.id)
        .where(
            held.c.todo_id == t.c.id,
            held.c.status == "active",
            held.c.expires_on >= p.day,
            seen.c.run_id == p.run_id,
            seen.c.rule_id == t.c.rule_id,
            seen.c.record_key == t.c.record_key,
            held.c.value_hash == seen.c.value_hash,
        )
        .correlate(t)
        .exists()
    )
    lapsing = sa.and_(p.mine, t.c.status == TodoStatus.EXEMPTED, p.found, ~holds)
    end_exemptions(p, lapsing, sa.case((e.c.expires_on < p.day, "expired"), else_="lapsed"))
    return p.transition(lapsing, "exemption_lapsed", TodoStatus.OPEN, p.reopen_values())


def reopen_regressions(p: Pass) -> int:
    """Fixed (or out of scope), and failing again: reopen with a new due date."""
    regressed = sa.and_(p.mine, t.c.status.in_(CLOSED), p.found)
    return p.transition(regressed, "reopened", TodoStatus.OPEN, p.reopen_values())


def restore_returned(p: Pass) -> int:
    """Closed because the record vanished from the extract, and it is back, still failing: the to-do
    carries on where it was (same first-seen and due date, no reopen counted), so no SLA history is lost."""
    returned = sa.and_(p.mine, t.c.status == TodoStatus.GONE, p.found)
    values = {
        "status": TodoStatus.OPEN,
        "closed_on": None,
        "transition_run_id": p.run_id,
        "last_seen": p.day,
        "masked_value": p.from_finding(p.f.c.masked_value),
        "value_hash": p.from_finding(p.f.c.value_hash),
    }
    return p.transition(returned, "record_returned", TodoStatus.OPEN, values)


def refute_claims(p: Pass) -> int:
    """'Fixed', said the account manager, but the check still fails: back to open."""
    refuted = sa.and_(p.mine, t.c.status == TodoStatus.PENDING_VERIFICATION, p.found)
    return p.transition(
        refuted,
        "verification_failed",
        TodoStatus.OPEN,
        {"status": TodoStatus.OPEN, "transition_run_id": p.run_id},
    )


def reassign_transferred(p: Pass) -> int:
    """Still failing, and the record changed hands (a transfer): the to-do moves with it.

    A to-do a head handed over (转派, `assigned_by`) stays with its assignee while the source's manager is
    the same and the assignee still active; once the source names another manager, it follows the source.
    """
    f = p.f
    active = sa.select(Staff.staff_id).where(Staff.active.is_(True))
    held = sa.and_(
        t.c.assigned_by.is_not(None),
        f.c.mgr_staff_id.is_not_distinct_from(t.c.mgr_staff_id),
        t.c.assignee_staff_id.in_(active),
    )
    moved = sa.exists().where(
        p.match, f.c.assignee_staff_id.is_distinct_from(t.c.assignee_staff_id), sa.not_(held)
    )
    return p.transition(
        sa.and_(p.mine, t.c.status.in_(ACTIVE_STATUSES), moved),
        "reassigned",
        None,
        {
            "assignee_staff_id": p.from_finding(f.c.assignee_staff_id),
            "routed_to_head": p.from_finding(f.c.routed_to_head),
            "mgr_staff_id": p.from_finding(f.c.mgr_staff_id),
            "inst_code": p.from_finding(f.c.inst_code),
            "assigned_by": None,
        },
        detail=sa.func.coalesce(t.c.assignee_staff_id, "-")
        + " -> "
        + sa.func.coalesce(p.from_finding(f.c.assignee_staff_id), "-"),
    )


def refresh_kept(p: Pass) -> None:
    """Still failing: keep the to-do current (last seen, masked value, value hash, institution, manager).

    Only a change of the values or the owner keeps a before-image; last seen alone moves every day.
    """
    f = p.f
    kept = sa.and_(p.mine, t.c.status.in_(CLOSABLE))
    changed = sa.exists().where(
        p.match,
        sa.or_(
            f.c.masked_value.is_distinct_from(t.c.masked_value),
            f.c.inst_code.is_distinct_from(t.c.inst_code),
            f.c.value_hash.is_distinct_from(t.c.value_hash),
            f.c.mgr_staff_id.is_distinct_from(t.c.mgr_staff_id),
        ),
    )
    p.remember(sa.and_(kept, changed))
    stale = sa.or_(t.c.last_seen != p.day, changed)
    p.conn.execute(
        sa.update(t)
        .where(kept, sa.exists().where(p.match), stale)
        .values(
            last_seen=p.day,
            masked_value=p.from_finding(f.c.masked_value),
            value_hash=p.from_finding(f.c.value_hash),
            inst_code=p.from_finding(f.c.inst_code),
            mgr_staff_id=p.from_finding(f.c.mgr_staff_id),
            # a head's handing over ends when the source names another manager (SET reads the old row)
            assigned_by=sa.case(
                (p.from_finding(f.c.mgr_staff_id).is_distinct_from(t.c.mgr_staff_id), None),
                else_=t.c.assigned_by,
            ),
        )
    )


def open_new(p: Pass) -> int:
    """Failing with no to-do yet: open one. A void to-do (its run was voided) starts again as new."""
    f = p.f
    revived = sa.and_(p.mine, t.c.status == TodoStatus.VOID, p.found)
    p.remember(revived)
    p.conn.execute(
        sa.update(t)
        .where(revived)
        .values(
            status=TodoStatus.OPEN,
            closed_on=None,
            first_seen=p.day,
            last_seen=p.day,
            reopen_count=0,
            opened_run_id=p.run_id,
            transition_run_id=p.run_id,
            due_date=p.due_for(t.c.rule_id),
            card=Card.NONE,
            assignee_staff_id=p.from_finding(f.c.assignee_staff_id),
            routed_to_head=p.from_finding(f.c.routed_to_head),
            mgr_staff_id=p.from_finding(f.c.mgr_staff_id),
            assigned_by=None,
            inst_code=p.from_finding(f.c.inst_code),
            masked_value=p.from_finding(f.c.masked_value),
            value_hash=p.from_finding(f.c.value_hash),
        )
    )
    r = cast(sa.Table, RuleRecord.__table__)
    exists_todo = (
        sa.select(t.c.id)
        .where(t.c.rule_id == f.c.rule_id, t.c.table_name == f.c.table_name, t.c.record_key == f.c.record_key)
        .exists()
    )
    derived = {
        "status": sa.literal(TodoStatus.OPEN.value),
        "clause": r.c.clauses,
        "columns": r.c.columns,
        "severity": r.c.severity,
        "first_seen": sa.literal(p.day, sa.Date),
        "last_seen": sa.literal(p.day, sa.Date),
        "reopen_count": sa.literal(0),
        "opened_run_id": sa.literal(p.run_id),
        "transition_run_id": sa.literal(p.run_id),
        "due_date": p.due_for(f.c.rule_id),
        "card": sa.literal(Card.NONE.value),
    }
    copied = (
        "rule_id",
        "table_name",
        "record_key",
        "inst_code",
        "mgr_staff_id",
        "assignee_staff_id",
        "routed_to_head",
        "masked_value",
        "record_created",
        "value_hash",
    )
    names = [*copied, *derived]
    new_rows = (
        sa.select(*(f.c[name] for name in copied), *derived.values())
        .select_from(f.join(r, r.c.rule_id == f.c.rule_id))
        .where(p.this_run, ~exists_todo)
        # to-do ids in the staging table's key order (rule, then record), whatever plan the join gets
        .order_by(f.c.rule_id, f.c.record_key)
    )
    p.conn.execute(sa.insert(t).from_select(names, new_rows))
    opened = sa.and_(t.c.table_name == p.table, t.c.opened_run_id == p.run_id)
    p.log(opened, "opened", t.c.status, from_status=sa.literal(None, sa.String))
    return int(p.conn.scalar(sa.select(sa.func.count()).select_from(t).where(opened)) or 0)


def close_passing(p: Pass) -> dict[str, int]:
    """No longer failing, for rules that ran cleanly on this run: close each to-do by what became of its
    record: *out of scope* (its status left the scope, G1), *gone* (no longer in the extract) or *fixed*.
    An incremental run closes a to-do as fixed only if it evaluated the record (its state was staged)."""
    closable_rules = sa.select(CheckRunRule.rule_id).where(
        CheckRunRule.run_id == p.run_id, CheckRunRule.status == "ok"
    )
    base = sa.and_(p.mine, t.c.status.in_(CLOSABLE), t.c.rule_id.in_(closable_rules), ~p.found)
    if p.incremental:  # only records it evaluated, or found gone: those with a staged state
        staged = sa.select(RecordState.record_key).where(RecordState.run_id == p.run_id)
        base = sa.and_(base, t.c.record_key.in_(staged))

    def record_is(state: str) -> ColumnElement[bool]:
        return (
            sa.select(RecordState.record_key)
            .where(
                RecordState.run_id == p.run_id,
                RecordState.record_key == t.c.record_key,
                RecordState.state == state,
            )
            .exists()
        )

    end_exemptions(p, base, "lapsed")  # an exemption ends with its to-do
    counts: dict[str, int] = {}
    for status, where in (
        (TodoStatus.OUT_OF_SCOPE, sa.and_(base, record_is("out_of_scope"))),
        (TodoStatus.GONE, sa.and_(base, record_is("gone"))),
        (TodoStatus.FIXED, sa.and_(base, record_is("live")) if p.incremental else base),
    ):
        values = {"status": status, "closed_on": p.day, "transition_run_id": p.run_id, "card": Card.NONE}
        counts[status.value] = p.transition(where, status.value, status.value, values)
    return counts


def carry_unevaluated(p: Pass) -> None:
    """An incremental run: a to-do still open whose record it did not evaluate is failing as before (its
    record, its peers, the date and the routing are unchanged), so it is seen again today."""
    staged = (
        sa.select(RecordState.record_key)
        .where(RecordState.run_id == p.run_id, RecordState.record_key == t.c.record_key)
        .exists()
    )
    p.conn.execute(
        sa.update(t)
        .where(p.mine, t.c.status.in_(CLOSABLE), t.c.last_seen != p.day, ~p.found, ~staged)
        .values(last_seen=p.day)
    )


def findings_count(p: Pass) -> int:
    return int(p.conn.scalar(sa.select(sa.func.count()).select_from(p.f).where(p.this_run)) or 0)
