"""Changing the bank's calendar: set a day, import a year's schedule, mark a year covered.

Every change, under the calendar's lock file, is one transaction: the due dates it moves, one
`due_date_changed` event per moved to-do and the audit entry commit together, and the file is replaced
inside that transaction (put back if the commit fails).

A to-do's due date is the day its SLA clock started plus N working days (`Policy.due_days`). The clock
starts on the logical date of the check run that last opened, reopened or un-exempted it (its first seen
date when that run is unknown). A change moves exactly the active to-dos whose due date it changes:
those where the old and the new calendar give different dates. A due date never moves into the past
without grace: a new date before today becomes the next working day after today. A moved to-do is not
overdue, so its card goes back to none (the next `remind` judges it again on the new date).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from remediation.calendar_file import (
    BankCalendar,
    CalendarError,
    bank_day,
    calendar_lock,
    calendar_path,
    read_calendar,
    with_covered,
    with_day,
    with_years,
    without_day,
    write_calendar,
)
from remediation.clock import now
from remediation.errors import NotAllowed
from remediation.notify.sla import REOPENING_EVENTS
from remediation.policy import Policy, current_policy
from remediation.store.models import ACTIVE_STATUSES, Card, CheckRun, Todo, TodoEvent
from remediation.workdays import WorkdayCalendar
from remediation.workflow.actions import active_staff
from remediation.workflow.audit import audit

CHOICES = ("holiday", "workday", "default")
CHUNK = 500


@dataclass(frozen=True)
class DueDateMove:
    todo_id: int
    table_name: str
    record_key: str
    rule_id: str
    old: dt.date
    new: dt.date


@dataclass(frozen=True)
class CalendarChange:
    changed: bool  # False: the calendar already said so; nothing was written
    moved: tuple[DueDateMove, ...]
    calendar: BankCalendar


def clock_starts(conn: sa.Connection) -> list[Any]:
    """Active to-dos with a due date: id, key, rule, severity, due date, card, status and SLA start day."""
    t = cast(sa.Table, Todo.__table__)
    e = cast(sa.Table, TodoEvent.__table__)
    run = cast(sa.Table, CheckRun.__table__)
    latest = (
        sa.select(e.c.todo_id, sa.func.max(e.c.id).label("event_id"))
        .where(e.c.event.in_(REOPENING_EVENTS))
        .group_by(e.c.todo_id)
        .subquery("latest")
    )
    opening = e.alias("opening")
    start = sa.func.coalesce(run.c.logical_date, t.c.first_seen).label("start")
    query = (
        sa.select(t.c.id, t.c.table_name, t.c.record_key, t.c.rule_id, t.c.severity)
        .add_columns(t.c.due_date, t.c.card, t.c.status, start)
        .select_from(
            t.outerjoin(latest, latest.c.todo_id == t.c.id)
            .outerjoin(opening, opening.c.id == latest.c.event_id)
            .outerjoin(run, run.c.id == opening.c.run_id)
        )
        .where(t.c.status.in_(ACTIVE_STATUSES), t.c.due_date.is_not(None))
        .order_by(t.c.id)
    )
    return list(conn.execute(query))


def recompute_due_dates(
    conn: sa.Connection,
    before: WorkdayCalendar,
    after: WorkdayCalendar,
    policy: Policy,
    today: dt.date,
    actor: str,
    reason: str,
) -> list[DueDateMove]:
    """Move the due dates that the change from `before` to `after` affects; one event per moved to-do."""
    memo: dict[tuple[dt.date, int], tuple[dt.date, dt.date]] = {}
    grace = after.add(today, 1)
    planned: dict[tuple[dt.date, dt.date], list[Any]] = defaultdict(list)
    for row in clock_starts(conn):
        days = policy.due_days(row.rule_id, row.severity)
        key = (row.start, days)
        if key not in memo:
            memo[key] = (before.add(row.start, days), after.add(row.start, days))
        old_rule, new_rule = memo[key]
        if old_rule == new_rule:
            continue
        new = new_rule if new_rule >= today else grace
        if new != row.due_date:
            planned[(row.due_date, new)].append(row)
    moves: list[DueDateMove] = []
    for (old, new), rows in planned.items():
        for start in range(0, len(rows), CHUNK):
            moves += _move(conn, rows[start : start + CHUNK], old, new, actor, reason)
    return sorted(moves, key=lambda m: m.todo_id)


def _move(
    conn: sa.Connection, rows: Sequence[Any], old: dt.date, new: dt.date, actor: str, reason: str
) -> list[DueDateMove]:
    t = cast(sa.Table, Todo.__table__)
    by_id = {row.id: row for row in rows}
    moved = conn.execute(
        sa.update(t)
        .where(t.c.id.in_(list(by_id)), t.c.due_date == old, t.c.status.in_(ACTIVE_STATUSES))
        .values(due_date=new, card=Card.NONE.value)
        .returning(t.c.id)
    ).scalars()
    done = [by_id[i] for i in moved]
    if not done:
        return []
    at = now()
    conn.execute(
        sa.insert(TodoEvent),
        [
            {
                "todo_id": row.id,
                "run_id": None,
                "at": at,
                "actor": actor[:40],
                "event": "due_date_changed",
                "from_status": row.status,
                "to_status": row.status,
                "detail": f"{old} -> {new}; {reason}"
                + (f"; card {row.card} -> none" if row.card != Card.NONE.value else ""),
            }
            for row in done
        ],
    )
    return [DueDateMove(r.id, r.table_name, r.record_key, r.rule_id, old, new) for r in done]


def change_calendar(
    store: sa.Engine,
    edit: Callable[[BankCalendar], BankCalendar],
    *,
    actor: str,
    action: str,
    detail: str,
    today: dt.date,
    path: Path | None = None,
    policy: Policy | None = None,
    client: str | None = None,
) -> CalendarChange:
    """Apply `edit` to the calendar file, move the due dates it affects and audit it, all or nothing.

    Only active data-office staff change the calendar. An edit that changes nothing writes nothing.
    """
    path = path or calendar_path()
    policy = policy or current_policy()
    with store.connect() as conn:
        who = active_staff(conn, actor)
    if who.position != "data_office":
        raise NotAllowed(
            f"{actor} ({who.staff_name}) is not in the data office, which keeps the calendar",
            code="not_data_office",
        )
    with calendar_lock(path), store.connect() as conn:
        old = read_calendar(path)
        new = edit(old)
        if new == old:
            return CalendarChange(False, (), old)
        conn.begin()
        before, after = WorkdayCalendar(bank=old), WorkdayCalendar(bank=new)
        moves = recompute_due_dates(conn, before, after, policy, today, actor, detail)
        audit(conn, actor, action, detail=f"{detail}; due dates moved: {len(moves)}", client=client)
        write_calendar(path, new)  # closing the connection without the commit below rolls back
        try:
            conn.commit()
        except BaseException:
            write_calendar(path, old)
            raise
    return CalendarChange(True, tuple(moves), new)


def describe(day: dt.date, choice: str, note: str, notice: str) -> str:
    source = f" ({notice})" if notice else ""
    return f"calendar {day} {choice}: {note}{source}"


def set_day(
    store: sa.Engine,
    day: dt.date,
    choice: str,
    note: str,
    *,
    notice: str = "",
    actor: str,
    today: dt.date,
    path: Path | None = None,
    client: str | None = None,
) -> CalendarChange:
    """Mark `day` a holiday, a make-up working day, or back to the default (the bank's entry removed)."""
    if choice not in CHOICES:
        raise CalendarError(
            f"{choice!r}: choose holiday, workday or default", code="calendar_bad_choice", choice=choice
        )
    kind = "holiday" if choice == "default" else choice  # "default" needs a note too, checked alike
    entry = bank_day(day, kind, note, notice)

    def edit(calendar: BankCalendar) -> BankCalendar:
        return without_day(calendar, day) if choice == "default" else with_day(calendar, entry)

    return change_calendar(
        store,
        edit,
        actor=actor,
        action="calendar_set",
        today=today,
        path=path,
        detail=describe(day, choice, entry.note, entry.notice),
        client=client,
    )


def import_calendar(
    store: sa.Engine,
    imported: BankCalendar,
    source: str,
    *,
    actor: str,
    today: dt.date,
    path: Path | None = None,
) -> CalendarChange:
    """Each year of `imported` replaces that year of the bank's calendar."""
    years = ", ".join(str(y) for y in sorted(imported.covered)) or "none"
    return change_calendar(
        store,
        lambda c: with_years(c, imported),
        actor=actor,
        action="calendar_import",
        today=today,
        path=path,
        detail=f"calendar import {source}: years {years}",
    )


def cover_year(
    store: sa.Engine,
    year: int,
    covered: bool,
    *,
    actor: str,
    today: dt.date,
    path: Path | None = None,
    client: str | None = None,
) -> CalendarChange:
    """Say that `year`'s whole schedule is entered (or not): this only changes the coverage warning."""
    detail = f"calendar {year} {'covered' if covered else 'not covered'}"
    return change_calendar(
        store,
        lambda c: with_covered(c, year, covered),
        actor=actor,
        today=today,
        action="calendar_cover",
        detail=detail,
        path=path,
        client=client,
    )
