"""Cards and due-soon marks on the statutory calendar, across the National Day holiday; on both backends."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.notify.sla import mark_due_soon, red_limit, update_cards
from remediation.policy import current_policy
from remediation.store.engines import open_store
from remediation.store.models import Todo, TodoEvent
from remediation.workdays import WorkdayCalendar
from tests.storedata import add_todos, seed_org

D = dt.date
POLICY = current_policy()  # red 5 working days after the due date, reminders 2 working days before it
CAL = WorkdayCalendar()


def cards(store: sa.Engine) -> dict[str, str]:
    with store.connect() as conn:
        return dict(conn.execute(sa.select(Todo.record_key, Todo.card)).all())


def events(store: sa.Engine, kind: str) -> list[tuple[str, str | None]]:
    with store.connect() as conn:
        return [
            (r[0], r[1])
            for r in conn.execute(
                sa.select(Todo.record_key, TodoEvent.detail)
                .join(Todo, Todo.id == TodoEvent.todo_id)
                .where(TodoEvent.event == kind, TodoEvent.actor == "system")
                .order_by(TodoEvent.id)
            )
        ]


@pytest.fixture
def store(databases: Any) -> sa.Engine:
    engine = open_store(databases.new("store"))
    seed_org(engine)
    return engine


def test_red_limit_counts_working_days_after_the_due_date() -> None:
    assert red_limit(D(2026, 10, 13), 5, CAL) == D(2026, 10, 7)  # 8, 9, 10 (make-up Sat), 12, 13
    assert red_limit(D(2026, 10, 12), 5, CAL) == D(2026, 9, 29)  # 30 Sep, 8, 9, 10, 12
    assert red_limit(D(2026, 10, 12), 0, CAL) == D(2026, 10, 11)  # red as soon as overdue


def test_cards_across_the_national_day_holiday(store: sa.Engine) -> None:
    add_todos(
        store,
        [
            {"key": "due-0929", "assignee": "M101", "due": D(2026, 9, 29)},
            {"key": "due-0930", "assignee": "M101", "due": D(2026, 9, 30)},
            {"key": "due-1009", "assignee": "M101", "due": D(2026, 10, 9)},
            {"key": "fixed", "assignee": "M101", "due": D(2026, 9, 1), "status": "fixed"},
        ],
        D(2026, 9, 20),
    )
    # due today is not late yet; five weekdays of holiday count for nothing towards red
    assert update_cards(store, D(2026, 9, 30), POLICY, CAL).yellow == 1
    summary = update_cards(store, D(2026, 10, 7), POLICY, CAL)
    assert (summary.yellow, summary.red) == (1, 0)
    assert cards(store) == {"due-0929": "yellow", "due-0930": "yellow", "due-1009": "none", "fixed": "none"}
    update_cards(store, D(2026, 10, 12), POLICY, CAL)  # 4 working days after 30 Sep, 5 after 29 Sep
    assert cards(store)["due-0929"] == "red" and cards(store)["due-0930"] == "yellow"
    update_cards(store, D(2026, 10, 13), POLICY, CAL)  # the make-up Saturday is the third of five
    assert cards(store)["due-0930"] == "red"
    assert cards(store)["due-1009"] == "yellow"
    assert events(store, "card_yellow") == [
        ("due-0929", "none -> yellow"),
        ("due-0930", "none -> yellow"),
        ("due-1009", "none -> yellow"),
    ]
    assert events(store, "card_red") == [("due-0929", "yellow -> red"), ("due-0930", "yellow -> red")]


def test_cards_are_idempotent_per_date_and_only_go_up(store: sa.Engine) -> None:
    add_todos(store, [{"key": "late", "assignee": "M101", "due": D(2026, 9, 1)}], D(2026, 8, 20))
    first = update_cards(store, D(2026, 11, 20), POLICY, CAL)
    assert (first.yellow, first.red) == (0, 1)  # straight to red, no yellow on the way
    again = update_cards(store, D(2026, 11, 20), POLICY, CAL)
    earlier = update_cards(store, D(2026, 9, 2), POLICY, CAL)  # a late rerun of an older date
    assert (again.yellow, again.red, earlier.yellow, earlier.red) == (0, 0, 0, 0)
    assert cards(store) == {"late": "red"}
    assert events(store, "card_red") == [("late", "none -> red")]


def test_due_soon_is_marked_once_per_open_period(store: sa.Engine) -> None:
    add_todos(
        store,
        [
            {"key": "due-1008", "assignee": "M101", "due": D(2026, 10, 8)},
            {"key": "due-1009", "assignee": "M101", "due": D(2026, 10, 9)},
        ],
        D(2026, 9, 20),
    )
    # on Tue 29 Sep two working days ahead reach Thu 8 Oct, across the holiday
    assert mark_due_soon(store, D(2026, 9, 29), POLICY, CAL) == 1
    assert mark_due_soon(store, D(2026, 9, 29), POLICY, CAL) == 0
    assert mark_due_soon(store, D(2026, 9, 30), POLICY, CAL) == 1  # due-1009 enters the window
    assert [key for key, _ in events(store, "due_soon")] == ["due-1008", "due-1009"]
    tighter = dataclasses.replace(POLICY, remind_working_days_before_due=0)
    assert mark_due_soon(store, D(2026, 10, 9), tighter, CAL) == 0  # already reminded in this open period
