"""Which years the working-day calendar does not know yet, while they matter.

A year matters when the coming 90 days reach into it, or when an active to-do is due in it. It is
covered when chinese-calendar has it, or when the bank's calendar file marks it `covered: true`.
Otherwise due dates, cards and reminders in it count Monday–Friday, and the data office must enter the
State Council's schedule (放假调休安排) before they go wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from remediation.store.models import ACTIVE_STATUSES, Todo
from remediation.workdays import WorkdayCalendar

WINDOW_DAYS = 90


@dataclass(frozen=True)
class CoverageGap:
    year: int
    in_window: bool  # the coming WINDOW_DAYS days reach into the year
    todos: int  # active to-dos due in the year


MAX_PROBED_YEARS = 20  # beyond this many uncovered years in the due dates' span, count them in one scan


def due_years(conn: sa.Connection) -> dict[int, int]:
    """Active to-dos with a due date, counted by the due date's year (one scan of the active to-dos)."""
    year = sa.extract("year", Todo.due_date)
    rows = conn.execute(
        sa.select(year, sa.func.count())
        .where(Todo.status.in_(ACTIVE_STATUSES), Todo.due_date.is_not(None))
        .group_by(year)
    )
    return {int(y): int(n) for y, n in rows}


def _uncovered_due_years(conn: sa.Connection, calendar: WorkdayCalendar) -> dict[int, int]:
    """Active to-dos due in each year the calendar does not cover, where there are any: the span of due
    dates and each uncovered year in it are index probes (`ix_dq_todo_active_due`), not a scan."""
    active = Todo.status.in_(ACTIVE_STATUSES)
    first, last = conn.execute(
        sa.select(sa.func.min(Todo.due_date), sa.func.max(Todo.due_date)).where(active)
    ).one()
    if first is None or last is None:
        return {}
    uncovered = [y for y in range(first.year, last.year + 1) if not calendar.covers(y)]
    if len(uncovered) > MAX_PROBED_YEARS:
        return {y: n for y, n in due_years(conn).items() if not calendar.covers(y)}
    counts = {}
    for y in uncovered:
        within = sa.and_(Todo.due_date >= dt.date(y, 1, 1), Todo.due_date < dt.date(y + 1, 1, 1))
        counts[y] = int(conn.scalar(sa.select(sa.func.count()).where(active, within)) or 0)
    return {y: n for y, n in counts.items() if n}


def coverage_gaps(
    store: sa.Engine | sa.Connection | None, today: dt.date, calendar: WorkdayCalendar | None = None
) -> list[CoverageGap]:
    """The uncovered years that matter as of `today`, earliest first (store None: the window only)."""
    calendar = calendar or WorkdayCalendar()
    window = set(range(today.year, (today + dt.timedelta(days=WINDOW_DAYS)).year + 1))
    todos: dict[int, int] = {}
    if isinstance(store, sa.Engine):
        with store.connect() as conn:
            todos = _uncovered_due_years(conn, calendar)
    elif store is not None:
        todos = _uncovered_due_years(store, calendar)
    years = sorted(y for y in window | set(todos) if not calendar.covers(y))
    return [CoverageGap(y, y in window, todos.get(y, 0)) for y in years]


def describe_gap(gap: CoverageGap) -> str:
    """One line for the command line (the portal words it through its catalogue)."""
    why = []
    if gap.in_window:
        why.append(f"the next {WINDOW_DAYS} days reach into it")
    if gap.todos:
        why.append(f"{gap.todos} open to-do(s) are due in it")
    return (
        f"the working-day calendar does not cover {gap.year} ({'; '.join(why)}): neither chinese-calendar nor "
        f"the bank's calendar has its holidays, so due dates, cards and reminders count Monday–Friday. "
        f"Enter the State Council's schedule: `dqgov calendar import FILE`, or enter the days (portal or "
        f"`dqgov calendar set`) and then `dqgov calendar cover {gap.year}`"
    )
