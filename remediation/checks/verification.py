""" "Fixed," says the account manager; only a check can prove it. The targeted re-check that does.

`claim_fixed` moves an open to-do to *pending verification*; it still counts as open in rates and SLAs.
`recheck_record` checks one record at once with the same compiled rules as the daily run and reconciles
that record's to-dos only: each that passes now closes as *fixed*, one that still fails goes back to
*open* (`verification_failed`). A claim nobody re-checks is settled by the next daily run the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from expectations.rulebook import Suite
from remediation.checks.pipeline import validate_record
from remediation.checks.reconcile.run import ReconcileSummary, reconcile_run
from remediation.checks.rules import rules_of
from remediation.clock import now, today_shanghai
from remediation.errors import InvalidState
from remediation.lifecycle import Lifecycle
from remediation.store.models import Finding, Todo, TodoStatus
from remediation.workflow.actions import (
    Store,
    active_staff,
    add_event,
    guarded_update,
    lock_todo,
    require_assignee,
    text,
    transaction,
)

MAX_NOTE = 2000


def claim_fixed(store: Store, todo_id: int, staff_id: str, note: str | None = None) -> None:
    """The assignee says the record is fixed: the to-do waits for a check to prove it."""
    note_text = text(note, "the note", MAX_NOTE)
    with transaction(store) as conn:
        active_staff(conn, staff_id)
        todo = lock_todo(conn, todo_id)
        require_assignee(todo, staff_id, "say it is fixed")
        if todo.status == TodoStatus.PENDING_VERIFICATION:
            raise InvalidState(
                f"to-do {todo_id} is already waiting for a check to verify the fix",
                code="claim_already_pending",
                todo=todo_id,
            )
        if todo.status != TodoStatus.OPEN:
            raise InvalidState(
                f"to-do {todo_id} is {todo.status}: only an open to-do can be claimed fixed",
                code="claim_not_open",
                todo=todo_id,
            )
        guarded_update(
            conn,
            f"to-do {todo_id}",
            sa.update(Todo)
            .where(Todo.id == todo_id, Todo.status == TodoStatus.OPEN, Todo.assignee_staff_id == staff_id)
            .values(status=TodoStatus.PENDING_VERIFICATION),
        )
        add_event(
            conn,
            todo_id,
            staff_id,
            "claimed_fixed",
            TodoStatus.OPEN,
            TodoStatus.PENDING_VERIFICATION,
            note_text,
            now(),
        )


@dataclass(frozen=True)
class TodoState:
    id: int
    rule_id: str
    status: str


@dataclass(frozen=True)
class RecheckSummary:
    run_id: int
    table: str
    record_key: str
    check_date: dt.date
    failing_rules: tuple[str, ...]  # the rules the record fails now
    reconcile: ReconcileSummary
    todos: tuple[TodoState, ...]  # the record's to-dos afterwards


def recheck_record(
    source: sa.Engine,
    store: sa.Engine,
    table: str,
    record_key: str,
    check_date: dt.date | None = None,
    *,
    suites: list[Suite] | None = None,
    lifecycle: Lifecycle | None = None,
) -> RecheckSummary:
    """Re-check one record now and reconcile its to-dos (and only its to-dos)."""
    suite = rules_of(table, suites)
    day = check_date or today_shanghai()
    validation = validate_record(source, store, suite, record_key, day)
    summary = reconcile_run(store, validation.run_id, lifecycle or Lifecycle.in_force())
    with store.connect() as conn:
        failing = conn.scalars(
            sa.select(Finding.rule_id).where(Finding.run_id == validation.run_id).order_by(Finding.rule_id)
        ).all()
        todos = conn.execute(
            sa.select(Todo.id, Todo.rule_id, Todo.status)
            .where(Todo.table_name == table, Todo.record_key == record_key)
            .order_by(Todo.id)
        ).all()
    return RecheckSummary(
        run_id=validation.run_id,
        table=table,
        record_key=record_key,
        check_date=day,
        failing_rules=tuple(failing),
        reconcile=summary,
        todos=tuple(TodoState(*t) for t in todos),
    )
