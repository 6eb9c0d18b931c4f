"""Appeals as people read them: the ones waiting for a person's decision, and a to-do's appeal history,
with their decisions and the exemptions they granted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from remediation.errors import NotFound
from remediation.store.models import Institution, Staff, Todo
from remediation.store.workflow_models import Appeal, AppealDecision, Exemption
from remediation.workflow.actions import (
    Store,
    reading,
)
from remediation.workflow.appeals import ARBITER_POSITIONS, COORDINATOR_POSITIONS, AppealStatus, Stage


@dataclass(frozen=True)
class DecisionView:
    stage: str
    decision: str
    decided_by: str
    decided_at: dt.datetime
    note: str | None


@dataclass(frozen=True)
class ExemptionView:
    id: int
    granted_by: str
    granted_on: dt.date
    expires_on: dt.date
    status: str  # active | lapsed | expired
    ended_on: dt.date | None


@dataclass(frozen=True)
class AppealView:
    id: int
    todo_id: int
    stage: str
    status: str
    reason: str
    evidence: str | None
    appellant: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    table_name: str
    record_key: str
    rule_id: str
    inst_code: str | None
    masked_value: str | None
    todo_status: str
    decisions: tuple[DecisionView, ...] = ()
    exemption: ExemptionView | None = None


def appeals_waiting_for(store: Store, staff_id: str) -> list[AppealView]:
    """The appeals waiting for this person's decision, oldest first.

    A head: those at coordination on to-dos of their institution's subtree. The data office: those at
    arbitration. Never the person's own appeals; nothing for anyone else.
    """
    with reading(store) as conn:
        person = conn.execute(sa.select(Staff).where(Staff.staff_id == staff_id)).first()
        if person is None:
            raise NotFound(
                f"there is no member of staff {staff_id!r}", code="staff_not_found", staff=staff_id
            )
        if not person.active:
            return []
        waiting = sa.and_(Appeal.status == AppealStatus.PENDING, Appeal.appellant != staff_id)
        if person.position in ARBITER_POSITIONS:
            return views(conn, sa.and_(waiting, Appeal.stage == Stage.ARBITRATION))
        if person.position in COORDINATOR_POSITIONS:
            tree = subtree(person.inst_code)
            in_subtree = Todo.inst_code.in_(sa.select(tree.c.inst_code))
            return views(conn, sa.and_(waiting, Appeal.stage == Stage.COORDINATION, in_subtree))
        return []


def appeal_history(store: Store, todo_id: int) -> list[AppealView]:
    """Every appeal of the to-do with its decisions and the exemption it granted, oldest first."""
    with reading(store) as conn:
        if conn.scalar(sa.select(Todo.id).where(Todo.id == todo_id)) is None:
            raise NotFound(f"there is no to-do {todo_id}", code="todo_not_found", todo=todo_id)
        return views(conn, Appeal.todo_id == todo_id)


def subtree(inst_code: str) -> sa.CTE:
    inst = (
        sa.select(Institution.inst_code)
        .where(Institution.inst_code == inst_code)
        .cte("subtree", recursive=True)
    )
    # UNION (not UNION ALL) stops on a cycle in the tree
    return inst.union(sa.select(Institution.inst_code).where(Institution.parent_code == inst.c.inst_code))


def views(conn: sa.Connection, where: ColumnElement[bool]) -> list[AppealView]:
    rows = conn.execute(
        sa.select(
            Appeal.id,
            Appeal.todo_id,
            Appeal.stage,
            Appeal.status,
            Appeal.reason,
            Appeal.evidence,
            Appeal.appellant,
            Appeal.created_at,
            Appeal.closed_at,
            Todo.table_name,
            Todo.record_key,
            Todo.rule_id,
            Todo.inst_code,
            Todo.masked_value,
            Todo.status.label("todo_status"),
        )
        .join(Todo, Todo.id == Appeal.todo_id)
        .where(where)
        .order_by(Appeal.created_at, Appeal.id)
    ).all()
    chosen = sa.select(Appeal.id).join(Todo, Todo.id == Appeal.todo_id).where(where)
    decisions: dict[int, list[DecisionView]] = {}
    for d in conn.execute(
        sa.select(AppealDecision).where(AppealDecision.appeal_id.in_(chosen)).order_by(AppealDecision.id)
    ):
        decisions.setdefault(d.appeal_id, []).append(
            DecisionView(d.stage, d.decision, d.decided_by, d.decided_at, d.note)
        )
    exemptions = {
        e.appeal_id: ExemptionView(e.id, e.granted_by, e.granted_on, e.expires_on, e.status, e.ended_on)
        for e in conn.execute(sa.select(Exemption).where(Exemption.appeal_id.in_(chosen)))
    }
    return [
        AppealView(
            **row._asdict(),
            decisions=tuple(decisions.get(row.id, ())),
            exemption=exemptions.get(row.id),
        )
        for row in rows
    ]
