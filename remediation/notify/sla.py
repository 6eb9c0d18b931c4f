"""SLA stages of active to-dos on a date: due soon (临期), yellow card (overdue), red card (超时, escalated).

- due soon: due within `sla.remind_working_days_before_due` working days (due today counts); one
  `due_soon` event per open period (or per due date, when a calendar change moved it), so a digest
  mentions it once.
- yellow card: the due date has passed (`due_date < as_of`).
- red card: `sla.red_after_overdue_working_days` or more working days have passed since the due date.

Cards only go up while a to-do stays open; reconcile resets them to none when it reopens or closes.
Every change appends a `dq_todo_event` (actor `system`) in the caller's transaction. The working-day
limits are worked out once per call, so each stage is one or two set-based statements; running a date
again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa

from remediation.policy import Policy
from remediation.store.events import log_events
from remediation.store.models import ACTIVE_STATUSES, Card, Todo, TodoEvent
from remediation.workdays import WorkdayCalendar

# events after which a to-do is open again with a new due date: it may be reminded (due soon) again
REOPENING_EVENTS = ("opened", "reopened", "exemption_lapsed")
# events after which a to-do may be reminded again: a new open period, or a due date the calendar moved
DUE_SOON_RESET_EVENTS = (*REOPENING_EVENTS, "due_date_changed")
CARD_EVENTS = {Card.YELLOW: "card_yellow", Card.RED: "card_red"}


@dataclass(frozen=True)
class CardSummary:
    as_of: dt.date
    yellow: int  # to-dos that got a yellow card now
    red: int  # to-dos that got a red card now (from none or yellow)
    red_due_on_or_before: dt.date  # the latest due date that is red on `as_of`


def red_limit(as_of: dt.date, working_days: int, calendar: WorkdayCalendar) -> dt.date:
    """The latest due date with at least `working_days` working days in (due date, as_of]."""
    day, counted = as_of, 0
    while counted < working_days:
        counted += calendar.is_workday(day)
        day -= dt.timedelta(days=1)
    return min(day, as_of - dt.timedelta(days=1))


def due_soon_limit(as_of: dt.date, policy: Policy, calendar: WorkdayCalendar) -> dt.date:
    """To-dos due on `as_of` up to this date are due soon (临期)."""
    return calendar.add(as_of, policy.remind_working_days_before_due)


def _in_transaction(store: sa.Engine | sa.Connection) -> AbstractContextManager[sa.Connection]:
    return store.begin() if isinstance(store, sa.Engine) else nullcontext(store)


def update_cards(
    store: sa.Engine | sa.Connection, as_of: dt.date, policy: Policy, calendar: WorkdayCalendar
) -> CardSummary:
    """Give overdue active to-dos their yellow or red card as of `as_of` (idempotent per date).

    `store` is an engine (one transaction of its own) or a connection inside the caller's transaction.
    """
    t = cast(sa.Table, Todo.__table__)
    limit = red_limit(as_of, policy.red_after_overdue_working_days, calendar)
    active = t.c.status.in_(ACTIVE_STATUSES)
    counts: dict[Card, int] = {}
    with _in_transaction(store) as conn:
        for card, where in (  # red first: a to-do overdue long enough skips yellow
            (Card.RED, sa.and_(active, t.c.due_date <= limit, t.c.card != Card.RED.value)),
            (
                Card.YELLOW,
                sa.and_(active, t.c.due_date < as_of, t.c.due_date > limit, t.c.card == Card.NONE.value),
            ),
        ):
            log_events(conn, where, CARD_EVENTS[card], detail=t.c.card + f" -> {card.value}")
            counts[card] = conn.execute(sa.update(t).where(where).values(card=card.value)).rowcount
    return CardSummary(as_of, yellow=counts[Card.YELLOW], red=counts[Card.RED], red_due_on_or_before=limit)


def mark_due_soon(
    store: sa.Engine | sa.Connection, as_of: dt.date, policy: Policy, calendar: WorkdayCalendar
) -> int:
    """Append a `due_soon` event for active to-dos entering the reminder window; returns how many."""
    t = cast(sa.Table, Todo.__table__)
    e = cast(sa.Table, TodoEvent.__table__).alias("e")
    opened = cast(sa.Table, TodoEvent.__table__).alias("opened")
    last_opening = (
        sa.select(sa.func.max(opened.c.id))
        .where(opened.c.todo_id == t.c.id, opened.c.event.in_(DUE_SOON_RESET_EVENTS))
        .scalar_subquery()
    )
    reminded = sa.exists().where(
        e.c.todo_id == t.c.id, e.c.event == "due_soon", e.c.id > sa.func.coalesce(last_opening, 0)
    )
    where = sa.and_(
        t.c.status.in_(ACTIVE_STATUSES),
        t.c.card == Card.NONE.value,
        t.c.due_date >= as_of,
        t.c.due_date <= due_soon_limit(as_of, policy, calendar),
        ~reminded,
    )
    with _in_transaction(store) as conn:
        count = conn.scalar(sa.select(sa.func.count()).select_from(t).where(where)) or 0
        if count:
            log_events(conn, where, "due_soon", detail=f"as of {as_of.isoformat()}")
    return count
