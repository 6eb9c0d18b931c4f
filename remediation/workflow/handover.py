"""转派: a head hands to-dos of their subtree to another active account manager when the owner is wrong.

The to-dos keep the head's choice (`dq_todo.assigned_by`) while the source's `mgr_staff_id` stays the
same (`remediation.checks.reconcile.transitions.reassign_transferred`); when the source names another
manager, they follow the source again. Each to-do moved gets a `reassigned` event with the head as actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from remediation.errors import InvalidInput
from remediation.reporting.queries import TodoScope
from remediation.store.events import log_events
from remediation.store.models import ACTIVE_STATUSES, Staff, Todo

ACCOUNT_MANAGER = "account_manager"
MAX_TODOS = 200


@dataclass(frozen=True)
class Handover:
    moved: tuple[int, ...]  # to-do ids now with the new assignee
    to_staff_id: str
    to_name: str


def candidates(conn: sa.Connection, institutions: frozenset[str] | None) -> list[tuple[str, str, str]]:
    """Active account managers of the institutions (all when None): (staff id, name, institution code)."""
    query = sa.select(Staff.staff_id, Staff.staff_name, Staff.inst_code).where(
        Staff.active.is_(True), Staff.position == ACCOUNT_MANAGER
    )
    if institutions is not None:
        query = query.where(Staff.inst_code.in_(sorted(institutions)))
    return [(r.staff_id, r.staff_name, r.inst_code) for r in conn.execute(query.order_by(Staff.staff_id))]


def hand_over(
    conn: sa.Connection,
    head_staff_id: str,
    scope: TodoScope,
    todo_ids: Sequence[int],
    to_staff_id: str,
) -> Handover:
    """Give the chosen active to-dos in `scope` to `to_staff_id`, an active account manager of the scope's
    institutions; to-dos already theirs are left as they are. Raises InvalidInput naming what is wrong."""
    if not todo_ids:
        raise InvalidInput("choose at least one to-do to hand over", code="handover_none_chosen")
    if len(todo_ids) > MAX_TODOS:
        raise InvalidInput(f"at most {MAX_TODOS} to-dos at once", code="nudge_too_many", n=MAX_TODOS)
    allowed = {staff_id: name for staff_id, name, _ in candidates(conn, scope.institutions)}
    if scope.assignee is not None or to_staff_id not in allowed:
        raise InvalidInput(
            f"{to_staff_id or '(none)'} is not an active account manager of your institutions",
            code="handover_bad_target",
            staff=to_staff_id or "—",
        )
    chosen = sa.and_(
        scope.clause(),
        Todo.id.in_(sorted(set(todo_ids))),
        Todo.status.in_(ACTIVE_STATUSES),
        Todo.assignee_staff_id.is_distinct_from(to_staff_id),
    )
    moved = tuple(conn.scalars(sa.select(Todo.id).where(chosen).order_by(Todo.id)))
    if not moved:
        raise InvalidInput(
            "none of the chosen to-dos is active and with someone else", code="handover_nothing_to_move"
        )
    these = Todo.id.in_(moved)
    log_events(
        conn,
        these,
        "reassigned",
        actor=head_staff_id,
        detail=sa.func.coalesce(Todo.assignee_staff_id, "-") + f" -> {to_staff_id}",
    )
    conn.execute(
        sa.update(Todo)
        .where(these)
        .values(assignee_staff_id=to_staff_id, routed_to_head=False, assigned_by=head_staff_id)
    )
    return Handover(moved, to_staff_id, allowed[to_staff_id])
