"""申诉 → 协调 → 仲裁: appeals of to-dos, the decisions on them, and the exemptions they grant.

- **File** (申诉): the to-do's assignee appeals an open to-do (or one waiting for verification) with a
  reason and an optional evidence note. The appeal is bound to the record's values as the last check saw
  them (`value_hash`).
- **Coordinate** (协调): an active sub-branch or branch head of the to-do's institution, or of one above it,
  accepts, rejects, or passes the appeal up to the data office. When there is no such head (other than
  the appellant), the appeal starts at arbitration.
- **Arbitrate** (仲裁): the data office accepts or rejects an appeal at arbitration: one a head passed up,
  or one the appellant escalated after a head rejected it.
- **Accept** grants an exemption (豁免) bound to those values for `exemption.default_days` (policy); the
  to-do becomes *exempted* and leaves the denominator. Reconcile ends it when a check sees other values,
  when it expires, or when the record passes.
- The appellant may **withdraw** a pending appeal, or **escalate** one rejected at coordination.

A rejection at arbitration is final for those values: a new appeal of the to-do is possible only once a
check has seen other values (or an exemption granted on them has expired). Every step appends a
`dq_appeal_decision` row and a `dq_todo_event`, with who and when, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from remediation.clock import now, today_shanghai
from remediation.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from remediation.policy import Policy, current_policy
from remediation.store.models import ACTIVE_STATUSES, Card, Staff, Todo, TodoStatus
from remediation.store.workflow_models import Appeal, AppealDecision, Exemption
from remediation.workflow.actions import (
    Store,
    active_staff,
    add_event,
    ancestors,
    guarded_update,
    lock_todo,
    require_assignee,
    text,
    transaction,
)

COORDINATOR_POSITIONS = ("sub_branch_head", "branch_head")
ARBITER_POSITIONS = ("data_office",)
MAX_REASON = 2000
MAX_EVIDENCE = 4000
MAX_NOTE = 2000


class Stage(enum.StrEnum):
    COORDINATION = "coordination"  # 协调: a head of the institution
    ARBITRATION = "arbitration"  # 仲裁: the data office


class AppealStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Decision(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    PASS_UP = "pass_up"  # a head hands the appeal to the data office
    WITHDRAW = "withdraw"  # the appellant, while it is pending
    ESCALATE = "escalate"  # the appellant, after a rejection at coordination


EVENTS = {
    Decision.ACCEPT: "appeal_accepted",
    Decision.REJECT: "appeal_rejected",
    Decision.PASS_UP: "appeal_passed_up",
    Decision.WITHDRAW: "appeal_withdrawn",
    Decision.ESCALATE: "appeal_escalated",
}


def file_appeal(store: Store, todo_id: int, staff_id: str, reason: str, evidence: str | None = None) -> int:
    """The assignee appeals the to-do; returns the new appeal's id."""
    reason_text = text(reason, "the appeal's reason", MAX_REASON, required=True)
    evidence_text = text(evidence, "the evidence note", MAX_EVIDENCE)
    at = now()
    with transaction(store) as conn:
        active_staff(conn, staff_id)
        todo = lock_todo(conn, todo_id)
        require_assignee(todo, staff_id, "appeal it")
        if todo.status not in ACTIVE_STATUSES:
            raise InvalidState(
                f"to-do {todo_id} is {todo.status}: only an open to-do (or one waiting for verification) "
                "can be appealed",
                code="appeal_todo_inactive",
                todo=todo_id,
            )
        if todo.value_hash is None:
            raise InvalidState(
                f"to-do {todo_id} has no fingerprint of its values yet; appeal it after the next check",
                code="appeal_no_fingerprint",
                todo=todo_id,
            )
        pending = _pending_appeal(conn, todo_id)
        if pending is not None:
            raise InvalidState(
                f"to-do {todo_id} already has appeal {pending} pending",
                code="appeal_pending",
                todo=todo_id,
                appeal=pending,
            )
        _refuse_settled(conn, todo)
        stage = Stage.COORDINATION if _coordinators(conn, todo.inst_code, staff_id) else Stage.ARBITRATION
        # the write lock (SQLite) or row lock (PostgreSQL) on the to-do makes "no pending appeal" hold
        no_pending = ~sa.exists().where(Appeal.todo_id == todo_id, Appeal.status == AppealStatus.PENDING)
        guarded_update(
            conn,
            f"to-do {todo_id}",
            sa.update(Todo)
            .where(
                Todo.id == todo_id,
                Todo.status == todo.status,
                Todo.assignee_staff_id == staff_id,
                Todo.value_hash == todo.value_hash,
                no_pending,
            )
            .values(status=todo.status),
        )
        appeal_id = int(
            conn.execute(
                sa.insert(Appeal)
                .values(
                    todo_id=todo_id,
                    stage=stage,
                    status=AppealStatus.PENDING,
                    reason=reason_text,
                    evidence=evidence_text,
                    value_hash=todo.value_hash,
                    appellant=staff_id,
                    created_at=at,
                )
                .returning(Appeal.id)
            ).scalar_one()
        )
        where = "" if stage == Stage.COORDINATION else " (no head to coordinate: straight to the data office)"
        add_event(
            conn,
            todo_id,
            staff_id,
            "appeal_filed",
            todo.status,
            todo.status,
            f"appeal {appeal_id} at {stage}{where}: {reason_text}",
            at,
        )
        return appeal_id


def coordinate(
    store: Store,
    appeal_id: int,
    staff_id: str,
    decision: str,
    note: str | None = None,
    *,
    today: dt.date | None = None,
    policy: Policy | None = None,
) -> None:
    """A head of the to-do's institution (or of one above it) accepts, rejects or passes the appeal up."""
    choice = _choice(decision, (Decision.ACCEPT, Decision.REJECT, Decision.PASS_UP), "coordination")
    note_text = _note(note, choice)
    with transaction(store) as conn:
        appeal, todo = _lock_appeal(conn, appeal_id)
        person = active_staff(conn, staff_id)
        if person.position not in COORDINATOR_POSITIONS or person.inst_code not in ancestors(
            conn, todo.inst_code
        ):
            raise NotAllowed(
                f"{staff_id} ({person.position}, {person.inst_code}) is not a head of institution "
                f"{todo.inst_code or '(unknown)'} or of one above it: may not coordinate appeal {appeal_id}"
            )
        _not_own(appeal, staff_id)
        _expect_pending(appeal, Stage.COORDINATION)
        _decide(conn, appeal, todo, staff_id, choice, note_text, today or today_shanghai(), policy)


def arbitrate(
    store: Store,
    appeal_id: int,
    staff_id: str,
    decision: str,
    note: str | None = None,
    *,
    today: dt.date | None = None,
    policy: Policy | None = None,
) -> None:
    """The data office accepts or rejects an appeal at arbitration."""
    choice = _choice(decision, (Decision.ACCEPT, Decision.REJECT), "arbitration")
    note_text = _note(note, choice)
    with transaction(store) as conn:
        appeal, todo = _lock_appeal(conn, appeal_id)
        person = active_staff(conn, staff_id)
        if person.position not in ARBITER_POSITIONS:
            raise NotAllowed(
                f"{staff_id} ({person.position}) is not in the data office: may not arbitrate appeal {appeal_id}"
            )
        _not_own(appeal, staff_id)
        _expect_pending(appeal, Stage.ARBITRATION)
        _decide(conn, appeal, todo, staff_id, choice, note_text, today or today_shanghai(), policy)


def withdraw(store: Store, appeal_id: int, staff_id: str, note: str | None = None) -> None:
    """The appellant withdraws a pending appeal."""
    note_text = text(note, "the note", MAX_NOTE)
    with transaction(store) as conn:
        appeal, todo = _lock_appeal(conn, appeal_id)
        active_staff(conn, staff_id)
        if staff_id != appeal.appellant:
            raise NotAllowed(f"only {appeal.appellant}, who filed appeal {appeal_id}, may withdraw it")
        if appeal.status != AppealStatus.PENDING:
            raise InvalidState(
                f"appeal {appeal_id} is {appeal.status}: only a pending appeal can be withdrawn",
                code="appeal_not_withdrawable",
                appeal=appeal_id,
            )
        at = now()
        guarded_update(
            conn,
            f"appeal {appeal_id}",
            sa.update(Appeal)
            .where(
                Appeal.id == appeal_id, Appeal.status == AppealStatus.PENDING, Appeal.stage == appeal.stage
            )
            .values(status=AppealStatus.WITHDRAWN, closed_at=at),
        )
        _record(conn, appeal, todo, staff_id, Decision.WITHDRAW, note_text, at)


def escalate(store: Store, appeal_id: int, staff_id: str, note: str | None = None) -> None:
    """The appellant takes an appeal a head rejected to the data office for arbitration."""
    note_text = text(note, "the note", MAX_NOTE)
    with transaction(store) as conn:
        appeal, todo = _lock_appeal(conn, appeal_id)
        active_staff(conn, staff_id)
        if staff_id != appeal.appellant:
            raise NotAllowed(f"only {appeal.appellant}, who filed appeal {appeal_id}, may escalate it")
        if appeal.status != AppealStatus.REJECTED or appeal.stage != Stage.COORDINATION:
            raise InvalidState(
                f"appeal {appeal_id} is {appeal.status} at {appeal.stage}: only an appeal rejected at "
                "coordination can be escalated to the data office",
                code="appeal_not_escalatable",
                appeal=appeal_id,
            )
        _expect_exemptible(appeal, todo, "escalated")
        pending = _pending_appeal(conn, todo.id)
        if pending is not None:
            raise InvalidState(
                f"to-do {todo.id} already has appeal {pending} pending",
                code="appeal_pending",
                todo=todo.id,
                appeal=pending,
            )
        at = now()
        guarded_update(
            conn,
            f"appeal {appeal_id}",
            sa.update(Appeal)
            .where(
                Appeal.id == appeal_id,
                Appeal.status == AppealStatus.REJECTED,
                Appeal.stage == Stage.COORDINATION,
            )
            .values(stage=Stage.ARBITRATION, status=AppealStatus.PENDING, closed_at=None),
        )
        _record(conn, appeal, todo, staff_id, Decision.ESCALATE, note_text, at)


def _choice(value: str, allowed: Sequence[Decision], stage: str) -> Decision:
    try:
        choice = Decision(value.strip().lower().replace("-", "_"))
    except ValueError:
        choice = None
    if choice not in allowed:
        raise InvalidInput(
            f"{stage} decides {' | '.join(d.value for d in allowed)}, not {value!r}",
            code="appeal_bad_decision",
            value=value,
        )
    assert choice is not None
    return choice


def _note(note: str | None, choice: Decision) -> str | None:
    note_text = text(note, "the note", MAX_NOTE)
    if choice is Decision.REJECT and note_text is None:
        raise InvalidInput("a rejection needs a note saying why", code="appeal_reject_needs_note")
    return note_text


def _lock_appeal(conn: sa.Connection, appeal_id: int) -> tuple[Any, Any]:
    """The appeal and its to-do, locked in that order everywhere: to-do first, then appeal."""
    todo_id = conn.scalar(sa.select(Appeal.todo_id).where(Appeal.id == appeal_id))
    if todo_id is None:
        raise NotFound(f"there is no appeal {appeal_id}", code="appeal_not_found", appeal=appeal_id)
    todo = lock_todo(conn, todo_id)
    appeal = conn.execute(sa.select(Appeal).where(Appeal.id == appeal_id).with_for_update()).one()
    return appeal, todo


def _pending_appeal(conn: sa.Connection, todo_id: int) -> int | None:
    return conn.scalar(
        sa.select(Appeal.id).where(Appeal.todo_id == todo_id, Appeal.status == AppealStatus.PENDING)
    )


def _refuse_settled(conn: sa.Connection, todo: Any) -> None:
    """An appeal rejected on the same values settles them: escalate it, or wait for other values."""
    rejected = conn.execute(
        sa.select(Appeal.id, Appeal.stage)
        .where(
            Appeal.todo_id == todo.id,
            Appeal.status == AppealStatus.REJECTED,
            Appeal.value_hash == todo.value_hash,
        )
        .order_by(Appeal.id.desc())
    ).first()
    if rejected is None:
        return
    if rejected.stage == Stage.ARBITRATION:
        raise InvalidState(
            f"the data office rejected appeal {rejected.id} of to-do {todo.id} on these values; "
            "it can be appealed again once the record's values change",
            code="appeal_rejected_at_arbitration",
            appeal=rejected.id,
            todo=todo.id,
        )
    raise InvalidState(
        f"appeal {rejected.id} of to-do {todo.id} was rejected at coordination on these values; "
        "escalate that appeal to the data office instead",
        code="appeal_rejected_at_coordination",
        appeal=rejected.id,
        todo=todo.id,
    )


def _coordinators(conn: sa.Connection, inst_code: str | None, appellant: str) -> list[str]:
    chain = ancestors(conn, inst_code)
    if not chain:
        return []
    return list(
        conn.scalars(
            sa.select(Staff.staff_id).where(
                Staff.active.is_(True),
                Staff.position.in_(COORDINATOR_POSITIONS),
                Staff.inst_code.in_(chain),
                Staff.staff_id != appellant,
            )
        )
    )


def _not_own(appeal: Any, staff_id: str) -> None:
    if appeal.appellant == staff_id:
        raise NotAllowed(f"{staff_id} filed appeal {appeal.id} and may not decide it")


def _expect_pending(appeal: Any, stage: Stage) -> None:
    if appeal.status != AppealStatus.PENDING:
        raise InvalidState(
            f"appeal {appeal.id} is {appeal.status} already: there is nothing to decide",
            code="appeal_decided",
            appeal=appeal.id,
        )
    if appeal.stage != stage:
        at_coordination = appeal.stage == Stage.COORDINATION
        raise InvalidState(
            f"appeal {appeal.id} is at coordination: a head of the institution decides it first, "
            "or passes it up to the data office"
            if at_coordination
            else f"appeal {appeal.id} is at arbitration: the data office decides it now",
            code="appeal_at_coordination" if at_coordination else "appeal_at_arbitration",
            appeal=appeal.id,
        )


def _expect_exemptible(appeal: Any, todo: Any, verb: str) -> None:
    if todo.status not in ACTIVE_STATUSES:
        raise InvalidState(
            f"to-do {todo.id} is {todo.status} now, so appeal {appeal.id} cannot be {verb}: "
            "there is nothing left to exempt",
            code="appeal_todo_closed",
            appeal=appeal.id,
            todo=todo.id,
        )
    if todo.value_hash != appeal.value_hash:
        raise InvalidState(
            f"a check has seen other values of the record since appeal {appeal.id} was filed, so it "
            f"cannot be {verb}: the account manager may appeal the new values",
            code="appeal_values_changed",
            appeal=appeal.id,
        )


def _decide(
    conn: sa.Connection,
    appeal: Any,
    todo: Any,
    staff_id: str,
    choice: Decision,
    note: str | None,
    today: dt.date,
    policy: Policy | None,
) -> None:
    """Record the decision; an acceptance grants the exemption for `policy`'s term (default: the policy in
    force)."""
    if choice is Decision.ACCEPT:
        _expect_exemptible(appeal, todo, "accepted")
    stage, status = {
        Decision.ACCEPT: (appeal.stage, AppealStatus.ACCEPTED),
        Decision.REJECT: (appeal.stage, AppealStatus.REJECTED),
        Decision.PASS_UP: (Stage.ARBITRATION, AppealStatus.PENDING),
    }[choice]
    at = now()
    guarded_update(
        conn,
        f"appeal {appeal.id}",
        sa.update(Appeal)
        .where(Appeal.id == appeal.id, Appeal.status == AppealStatus.PENDING, Appeal.stage == appeal.stage)
        .values(stage=stage, status=status, closed_at=None if status == AppealStatus.PENDING else at),
    )
    _record(conn, appeal, todo, staff_id, choice, note, at)
    if choice is Decision.ACCEPT:
        _exempt(conn, appeal, todo, staff_id, today, at, (policy or current_policy()).exemption_days)


def _record(
    conn: sa.Connection,
    appeal: Any,
    todo: Any,
    staff_id: str,
    choice: Decision,
    note: str | None,
    at: dt.datetime,
) -> None:
    """The decision row and the to-do's audit event."""
    conn.execute(
        sa.insert(AppealDecision).values(
            appeal_id=appeal.id,
            stage=appeal.stage,
            decision=choice,
            decided_by=staff_id,
            decided_at=at,
            note=note,
        )
    )
    detail = f"appeal {appeal.id} at {appeal.stage}" + (f": {note}" if note else "")
    add_event(conn, todo.id, staff_id, EVENTS[choice], todo.status, todo.status, detail, at)


def _exempt(
    conn: sa.Connection, appeal: Any, todo: Any, staff_id: str, today: dt.date, at: dt.datetime, days: int
) -> None:
    expires = today + dt.timedelta(days=days)
    exemption_id = conn.execute(
        sa.insert(Exemption)
        .values(
            todo_id=todo.id,
            appeal_id=appeal.id,
            value_hash=appeal.value_hash,
            granted_by=staff_id,
            granted_on=today,
            expires_on=expires,
            status="active",
        )
        .returning(Exemption.id)
    ).scalar_one()
    guarded_update(
        conn,
        f"to-do {todo.id}",
        sa.update(Todo)
        .where(Todo.id == todo.id, Todo.status == todo.status, Todo.value_hash == appeal.value_hash)
        .values(status=TodoStatus.EXEMPTED, closed_on=today, card=Card.NONE),
    )
    add_event(
        conn,
        todo.id,
        staff_id,
        "exempted",
        todo.status,
        TodoStatus.EXEMPTED,
        f"exemption {exemption_id} (appeal {appeal.id}) until {expires}",
        at,
    )
