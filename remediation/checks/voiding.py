"""Voiding a mistaken check run (`dqgov run void RUN_ID`): the data office takes its changes back.

- To-dos the run opened are cancelled as *void* (not *fixed*: nothing was fixed; they count nowhere).
- To-dos it closed, reopened, refuted, moved or refreshed get back the state they had before it (status,
  due date, card, assignee, values; `dq_todo_before` keeps it), and the exemptions it ended hold again.
- To-dos changed since by someone or something else (a person's action, a re-check) are left as they
  are and listed: the later change was made on the state the run left.
- The run becomes *void*: it no longer supersedes anything, so the next real run applies.
Only the newest reconciled full run of a table can be voided (then the one before it, and so on, up to
`reconcile.KEEP_BEFORE_IMAGES` runs back); a re-check only while no later run touched its record.
Everything happens in one transaction under the table's lock, with an audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from remediation.checks.reconcile.transitions import CLOSABLE
from remediation.checks.volume import require_data_office
from remediation.clock import now, today_shanghai
from remediation.errors import InvalidState, NotFound
from remediation.store.events import log_events
from remediation.store.models import (
    TODO_STATE_COLUMNS,
    Card,
    CheckRun,
    DuplicateKey,
    Finding,
    RecordState,
    RunStatus,
    Todo,
    TodoBefore,
    TodoEvent,
    TodoStatus,
)
from remediation.store.tablelock import lock_table
from remediation.store.workflow_models import Exemption
from remediation.workflow.audit import audit

SLA_EVENTS = ("due_soon", "card_yellow", "card_red")  # reminders' marks: recomputed, they block nothing

t = cast(sa.Table, Todo.__table__)
b = cast(sa.Table, TodoBefore.__table__)
ev = cast(sa.Table, TodoEvent.__table__)


@dataclass(frozen=True)
class VoidSummary:
    run_id: int
    table: str
    day: dt.date
    cancelled: int  # to-dos the run opened, now void
    restored: int  # to-dos the run changed, put back as they were
    left: tuple[int, ...]  # to-dos changed since by someone or something else: left as they are
    was: str  # the run's status before


def _run(conn: sa.Connection, run_id: int) -> Any:
    run = conn.execute(sa.select(CheckRun).where(CheckRun.id == run_id)).first()
    if run is None:
        raise NotFound(f"there is no check run {run_id}", code="run_not_found", run=run_id)
    return run


def _check_voidable(conn: sa.Connection, run: Any) -> None:
    if run.status == RunStatus.VOID:
        raise InvalidState(f"check run {run.id} is void already", code="run_void_already", run=run.id)
    if run.status == RunStatus.VALIDATING:
        raise InvalidState(
            f"check run {run.id} is still validating: let it finish, or sweep it if its process died",
            code="run_still_validating",
            run=run.id,
        )
    if run.status != RunStatus.RECONCILED:
        return
    later = sa.and_(
        CheckRun.table_name == run.table_name, CheckRun.status == RunStatus.RECONCILED, CheckRun.id > run.id
    )
    if run.record_key is None:
        later = sa.and_(later, CheckRun.record_key.is_(None))
    else:
        later = sa.and_(later, sa.or_(CheckRun.record_key.is_(None), CheckRun.record_key == run.record_key))
    newer = conn.scalar(sa.select(sa.func.max(CheckRun.id)).where(later))
    if newer is not None:
        raise InvalidState(
            f"check run {newer} of {run.table_name} was reconciled after run {run.id}: void run {newer} first",
            code="run_void_newer",
            run=run.id,
            newer=newer,
        )


def _later_change(run: Any, boundary: int, upper: int) -> ColumnElement[bool]:
    """The to-do has an event after the run's (up to `upper`, the voiding's own start), other than a
    reminder's mark."""
    return (
        sa.select(ev.c.id)
        .where(
            ev.c.todo_id == t.c.id,
            ev.c.id > boundary,
            ev.c.id <= upper,
            ev.c.event.not_in(SLA_EVENTS),
            ev.c.run_id.is_distinct_from(run.id),
        )
        .exists()
    )


def _boundary(conn: sa.Connection, run: Any) -> int:
    """The last event id the run wrote (or, if it wrote none, the last one before it finished)."""
    last = conn.scalar(sa.select(sa.func.max(ev.c.id)).where(ev.c.run_id == run.id))
    if last is None:
        last = conn.scalar(sa.select(sa.func.max(ev.c.id)).where(ev.c.at <= run.finished_at))
    return int(last or 0)


def _undo(conn: sa.Connection, run: Any, staff_id: str, today: dt.date) -> tuple[int, int, tuple[int, ...]]:
    boundary = _boundary(conn, run)
    upper = int(conn.scalar(sa.select(sa.func.max(ev.c.id))) or 0)
    changed = _later_change(run, boundary, upper)
    imaged = sa.select(b.c.todo_id).where(b.c.run_id == run.id, b.c.todo_id == t.c.id).exists()
    of_table = t.c.table_name == run.table_name
    opened = sa.and_(of_table, t.c.opened_run_id == run.id, ~imaged)
    touched = sa.and_(of_table, imaged)
    left = tuple(conn.scalars(sa.select(t.c.id).where(sa.or_(opened, touched), changed).order_by(t.c.id)))
    detail = f"run {run.id} ({run.logical_date}) voided by {staff_id}"

    cancel = sa.and_(opened, ~changed)
    log_events(
        conn, cancel, "voided", actor=staff_id, to_status=sa.literal(TodoStatus.VOID.value), detail=detail
    )
    cancelled = conn.execute(
        sa.update(t).where(cancel).values(status=TodoStatus.VOID, closed_on=today, card=Card.NONE)
    ).rowcount

    restore = sa.and_(touched, ~changed)
    before = {
        name: sa.select(b.c[name]).where(b.c.run_id == run.id, b.c.todo_id == t.c.id).scalar_subquery()
        for name in TODO_STATE_COLUMNS
    }
    restored_ids = sa.select(t.c.id).where(restore)
    e = cast(sa.Table, Exemption.__table__)
    conn.execute(
        sa.update(e)
        .where(e.c.ended_by_run_id == run.id, e.c.todo_id.in_(restored_ids))
        .values(status="active", ended_on=None, ended_by_run_id=None)
    )
    log_events(conn, restore, "run_voided", actor=staff_id, to_status=before["status"], detail=detail)
    restored = conn.execute(sa.update(t).where(restore).values(**before)).rowcount

    previous = conn.scalar(
        sa.select(sa.func.max(CheckRun.logical_date)).where(
            CheckRun.table_name == run.table_name,
            CheckRun.status == RunStatus.RECONCILED,
            CheckRun.record_key.is_(None),
            CheckRun.id != run.id,
        )
    )
    if run.record_key is None and previous is not None and previous < run.logical_date:
        # kept to-dos: they were last seen by the run before (the run itself only moved `last_seen`)
        conn.execute(
            sa.update(t)
            .where(
                of_table,
                t.c.status.in_(CLOSABLE),
                t.c.last_seen == run.logical_date,
                ~imaged,
                t.c.opened_run_id != run.id,
            )
            .values(last_seen=sa.case((t.c.first_seen > previous, t.c.first_seen), else_=previous))
        )
    return int(cancelled or 0), int(restored or 0), left


def void_run(
    store: sa.Engine,
    run_id: int,
    staff_id: str,
    reason: str | None = None,
    client: str | None = None,
    today: dt.date | None = None,
) -> VoidSummary:
    """Void run `run_id` on behalf of `staff_id` (an active member of the data office); see the module."""
    with store.connect() as conn:
        table = _run(conn, run_id).table_name
    today = today or today_shanghai()
    with store.begin() as conn:
        lock_table(conn, table)
        require_data_office(conn, staff_id)
        run = _run(conn, run_id)
        _check_voidable(conn, run)
        cancelled, restored, left = (
            _undo(conn, run, staff_id, today) if run.status == RunStatus.RECONCILED else (0, 0, ())
        )
        conn.execute(
            sa.update(CheckRun)
            .where(CheckRun.id == run_id)
            .values(status=RunStatus.VOID, voided_by=staff_id, voided_at=now())
        )
        for model in (Finding, RecordState, DuplicateKey):
            conn.execute(sa.delete(model).where(model.run_id == run_id))
        audit(
            conn,
            staff_id,
            "run_voided",
            table_name=table,
            record_key=run.record_key,
            detail=(
                f"run {run_id} ({run.logical_date}, was {run.status}): {cancelled} to-dos cancelled, "
                f"{restored} restored, {len(left)} left as changed since"
                + (f"; reason: {reason}" if reason else "")
            )[:2000],
            client=client,
        )
    return VoidSummary(run_id, table, run.logical_date, cancelled, restored, left, run.status)
