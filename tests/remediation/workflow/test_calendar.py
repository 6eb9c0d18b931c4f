"""The bank's own calendar for 2027, a year chinese-calendar 1.11 does not cover: due dates, recomputation
after a change, reminders on holidays and the coverage warning; store tests on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.calendar_file import (
    BankCalendar,
    BankDay,
    CalendarError,
    read_calendar,
    write_calendar,
)
from remediation.checks.pipeline import run_suite
from remediation.errors import NotAllowed
from remediation.notify.reminders import remind
from remediation.policy import current_policy
from remediation.reporting.calendar_coverage import CoverageGap, coverage_gaps
from remediation.store.engines import open_store
from remediation.store.models import Todo, TodoEvent
from remediation.store.workflow_models import OutboxMessage
from remediation.workdays import WorkdayCalendar
from remediation.workflow.audit import audit_entries
from remediation.workflow.calendar import cover_year, import_calendar, set_day
from tests.dbenv import source_engine
from tests.factories import build_source, merchant_row
from tests.storedata import add_todos

D = dt.date
POLICY = current_policy()  # due in 5 working days (high), reminders 2 before, red 5 working days late
NOTICE = "国办发明电〔2026〕12号"
BAD_ID = "360402198506121230"  # the check character should be 7


def spring_festival(covered: bool = True) -> BankCalendar:
    """Sat 6 – Fri 12 February 2027 off, Saturday 20 February a make-up working day (a made-up schedule)."""
    days = {D(2027, 2, d): BankDay(D(2027, 2, d), "holiday", "春节", NOTICE) for d in range(6, 13)}
    days[D(2027, 2, 20)] = BankDay(D(2027, 2, 20), "workday", "春节调休上班", NOTICE)
    return BankCalendar(days, {2027: covered})


def quiet(bank: BankCalendar | None = None) -> WorkdayCalendar:
    return WorkdayCalendar(lambda _: None, bank=bank or BankCalendar())


def test_the_bank_file_decides_2027_and_a_make_up_saturday_counts() -> None:
    warnings: list[str] = []
    cal = WorkdayCalendar(warnings.append, bank=spring_festival())
    assert not cal.is_workday(D(2027, 2, 8))  # a Monday, off for the Spring Festival
    assert cal.is_workday(D(2027, 2, 20))  # a Saturday, worked in lieu
    assert cal.add(D(2027, 2, 3), 5) == D(2027, 2, 17)  # Mon–Fri alone would say 10 February
    assert cal.add(D(2027, 2, 19), 1) == D(2027, 2, 20)
    assert cal.between(D(2027, 2, 5), D(2027, 2, 15)) == 1
    assert warnings == []  # 2027 is covered by the bank's file: no Monday–Friday fallback
    partly = WorkdayCalendar(warnings.append, bank=spring_festival(covered=False))
    assert not partly.is_workday(D(2027, 2, 8)) and partly.is_workday(D(2027, 3, 1))
    assert len(warnings) == 1 and "does not cover 2027" in warnings[0]


def test_the_bank_file_overrides_chinese_calendar_in_a_covered_year() -> None:
    extra = BankCalendar({D(2026, 12, 24): BankDay(D(2026, 12, 24), "holiday", "行庆日")}, {2026: False})
    assert quiet().is_workday(D(2026, 12, 24)) and not quiet(extra).is_workday(D(2026, 12, 24))
    status = quiet(extra).status(D(2026, 10, 1))
    assert (status.working, status.package, status.bank) == (False, "holiday", None)


def test_the_file_round_trips_and_is_read_once_per_version(tmp_path: Path) -> None:
    path = tmp_path / "var" / "bank_calendar.yml"
    assert WorkdayCalendar(bank=path).bank == BankCalendar()  # a missing file is an empty calendar
    write_calendar(path, spring_festival())
    assert read_calendar(path) == spring_festival()
    assert "国办发明电〔2026〕12号" in path.read_text(encoding="utf-8")  # readable, not escaped
    assert [p.name for p in path.parent.iterdir()] == ["bank_calendar.yml"]  # no temporary file left
    assert not WorkdayCalendar(bank=path).is_workday(D(2027, 2, 8))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "years:\n  2027:\n    days:\n      - {date: 2027-02-30, kind: holiday, note: 春节}\n",
            "year 2027, entry 1 (2027-02-30): date '2027-02-30' is not a date",
        ),
        (
            "years:\n  2027:\n    days:\n      - {date: 2028-02-08, kind: holiday, note: 春节}\n",
            "year 2027, entry 1 (2028-02-08): date 2028-02-08 is not in 2027",
        ),
        (
            "years:\n  2027:\n    days:\n      - {date: 2027-02-08, kind: day_off, note: 春节}\n",
            "kind 'day_off' must be holiday or workday",
        ),
        (
            "years:\n  2027:\n    days:\n      - {date: 2027-02-08, kind: holiday, note: 春节}\n"
            "      - {date: 2027-02-08, kind: workday, note: 调休}\n",
            "year 2027, entry 2 (2027-02-08): 2027-02-08 is given twice",
        ),
        ("years:\n  2027:\n    days:\n      - {date: 2027-02-08, kind: holiday}\n", "note is missing"),
        ("years:\n  2027:\n    covered: yes please\n", "covered must be true or false"),
        ("years: [2027]\n", "must be a mapping with one key, 'years'"),
        ("years:\n  2027:\n    days: {a: 1\n", "not valid YAML"),
    ],
)
def test_a_bad_file_names_the_file_and_the_entry(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "import.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        read_calendar(path)
    assert str(caught.value).startswith(str(path)) and fragment in str(caught.value)


def due_dates(store: sa.Engine) -> dict[str, tuple[dt.date | None, str]]:
    with store.connect() as conn:
        return {k: (d, c) for k, d, c in conn.execute(sa.select(Todo.record_key, Todo.due_date, Todo.card))}


def events(store: sa.Engine, kind: str) -> list[tuple[str, str, str | None]]:
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(Todo.record_key, TodoEvent.actor, TodoEvent.detail)
            .join(Todo, Todo.id == TodoEvent.todo_id)
            .where(TodoEvent.event == kind)
            .order_by(Todo.record_key)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_check_in_2027_counts_the_bank_entered_spring_festival(
    databases: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bank_calendar.yml"
    write_calendar(path, spring_festival())
    monkeypatch.setenv("DQGOV_CALENDAR_FILE", str(path))  # reconcile builds its calendar from the settings
    source_url = databases.new("source")
    build_source(
        source_url, [merchant_row(1, contact_phone="12345"), merchant_row(2, legal_rep_id_no=BAD_ID)]
    )
    store = open_store(databases.new("store"))
    suite = next(s for s in load_suites() if s.table == "merchant")
    run_suite(source_engine(source_url), store, suite, D(2027, 2, 3), today=D(2027, 2, 3))
    with store.connect() as conn:
        due = dict(conn.execute(sa.select(Todo.rule_id, Todo.due_date)).all())
    assert due["MER-P3-LEGAL-REP-ID-VALID"] == D(2027, 2, 17)  # 5 working days: the holiday week skipped
    assert due["MER-C1-PHONE-FORMAT"] == D(2027, 3, 9)  # 20, with the make-up Saturday counted


def test_a_change_moves_exactly_the_affected_active_todos(store: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "bank_calendar.yml"
    cal = quiet()
    todos = [  # all high severity: due 5 working days after they were first seen (Mon–Fri in 2027)
        ("in-festival", D(2027, 2, 1), "open"),
        ("claimed", D(2027, 2, 1), "pending_verification"),
        ("fixed", D(2027, 2, 1), "fixed"),
        ("march", D(2027, 3, 1), "open"),
        ("january", D(2027, 1, 4), "open"),
    ]
    for key, seen, status in todos:
        add_todos(store, [{"key": key, "assignee": "M101", "due": cal.add(seen, 5), "status": status}], seen)
    before = due_dates(store)
    change = import_calendar(
        store, spring_festival(), "notice.yml", actor="D001", today=D(2027, 1, 20), path=path
    )
    assert [(m.record_key, m.old, m.new) for m in change.moved] == [
        ("in-festival", D(2027, 2, 8), D(2027, 2, 15)),
        ("claimed", D(2027, 2, 8), D(2027, 2, 15)),
    ]
    after = due_dates(store)
    assert {k: v for k, v in after.items() if v != before[k]} == {
        "in-festival": (D(2027, 2, 15), "none"),
        "claimed": (D(2027, 2, 15), "none"),
    }
    assert events(store, "due_date_changed") == [
        ("claimed", "D001", "2027-02-08 -> 2027-02-15; calendar import notice.yml: years 2027"),
        ("in-festival", "D001", "2027-02-08 -> 2027-02-15; calendar import notice.yml: years 2027"),
    ]
    assert read_calendar(path) == spring_festival()
    [entry] = audit_entries(store, action="calendar_import")
    assert (
        entry.staff_id == "D001" and entry.detail is not None and entry.detail.endswith("due dates moved: 2")
    )
    # the same change again changes nothing and writes nothing
    again = import_calendar(
        store, spring_festival(), "notice.yml", actor="D001", today=D(2027, 1, 20), path=path
    )
    assert (again.changed, again.moved) == (False, ())
    assert len(audit_entries(store, action="calendar_import")) == 1


def test_a_due_date_never_moves_into_the_past_without_a_working_day_of_grace(
    store: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "bank_calendar.yml"
    add_todos(store, [{"key": "due-0201", "assignee": "M101", "due": D(2027, 2, 1)}], D(2027, 1, 25))
    add_todos(
        store, [{"key": "late", "assignee": "M101", "due": D(2027, 1, 25), "card": "yellow"}], D(2027, 1, 18)
    )
    today = D(2027, 2, 1)
    # a make-up Saturday on 30 January makes due-0201 due that day, already past: it gets tomorrow
    set_day(store, D(2027, 1, 30), "workday", "调休上班", actor="D001", today=today, path=path)
    assert due_dates(store)["due-0201"] == (D(2027, 2, 2), "none")
    # a holiday on 22 January moves the overdue one from 25 to 26 January: still past, so tomorrow too,
    # and it is no longer overdue: its yellow card goes
    set_day(
        store,
        D(2027, 1, 22),
        "holiday",
        "行庆日",
        notice="行发〔2027〕1号",
        actor="D001",
        today=today,
        path=path,
    )
    assert due_dates(store)["late"] == (D(2027, 2, 2), "none")
    assert events(store, "due_date_changed")[1] == (
        "late",
        "D001",
        "2027-01-25 -> 2027-02-02; calendar 2027-01-22 holiday: 行庆日 (行发〔2027〕1号); card yellow -> none",
    )
    # back to the default: the day leaves the file
    set_day(store, D(2027, 1, 22), "default", "录入错误", actor="D001", today=today, path=path)
    assert D(2027, 1, 22) not in read_calendar(path).days


def test_only_active_data_office_staff_change_the_calendar(store: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "bank_calendar.yml"
    with pytest.raises(NotAllowed, match="not in the data office"):
        set_day(store, D(2027, 2, 8), "holiday", "春节", actor="M101", today=D(2027, 1, 4), path=path)
    with pytest.raises(CalendarError, match="note is missing"):
        set_day(store, D(2027, 2, 8), "holiday", "  ", actor="D001", today=D(2027, 1, 4), path=path)
    assert not path.exists()


def test_no_reminder_or_card_on_a_holiday_and_the_next_working_day_sends(store: sa.Engine) -> None:
    add_todos(
        store,
        [
            {"key": "overdue", "assignee": "M101", "due": D(2027, 2, 4)},
            {"key": "due-soon", "assignee": "M102", "due": D(2027, 2, 16)},
        ],
        D(2027, 1, 28),
    )
    cal = quiet(spring_festival())
    holiday = remind(store, D(2027, 2, 8), POLICY, cal, ["inbox"], "http://portal")
    assert (holiday.working_day, holiday.due_soon, holiday.cards.yellow, holiday.digests) == (False, 0, 0, 0)
    with store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert due_dates(store)["overdue"] == (D(2027, 2, 4), "none")
    monday = remind(store, D(2027, 2, 15), POLICY, cal, ["inbox"], "http://portal")
    assert (monday.working_day, monday.due_soon, monday.cards.yellow, monday.digests) == (True, 1, 1, 2)
    with store.connect() as conn:
        keys = sorted(conn.scalars(sa.select(OutboxMessage.dedupe_key)))
    assert keys == ["digest:2027-02-15:M101:inbox", "digest:2027-02-15:M102:inbox"]


def test_a_moved_due_date_is_reminded_again(store: sa.Engine, tmp_path: Path) -> None:
    add_todos(store, [{"key": "k", "assignee": "M101", "due": D(2027, 2, 8)}], D(2027, 2, 1))
    assert remind(store, D(2027, 2, 4), POLICY, quiet(), [], "http://portal").due_soon == 1
    import_calendar(
        store, spring_festival(), "n.yml", actor="D001", today=D(2027, 2, 4), path=tmp_path / "c.yml"
    )
    assert due_dates(store)["k"] == (D(2027, 2, 15), "none")
    # Friday 5 February: two working days ahead is the new due date, across the holiday
    assert remind(store, D(2027, 2, 5), POLICY, quiet(spring_festival()), [], "http://portal").due_soon == 1


def test_the_warning_shows_while_the_next_90_days_are_uncovered_and_goes_once_entered(
    store: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "bank_calendar.yml"
    today = D(2026, 11, 30)
    assert coverage_gaps(store, D(2026, 9, 1), WorkdayCalendar(bank=path)) == []  # 90 days end in 2026
    assert coverage_gaps(store, today, WorkdayCalendar(bank=path)) == [CoverageGap(2027, True, 0)]
    add_todos(store, [{"key": "k", "assignee": "M101", "due": D(2028, 1, 5)}], today)
    assert coverage_gaps(store, today, WorkdayCalendar(bank=path)) == [
        CoverageGap(2027, True, 0),
        CoverageGap(2028, False, 1),
    ]
    set_day(store, D(2027, 2, 8), "holiday", "春节", actor="D001", today=today, path=path)
    assert [g.year for g in coverage_gaps(store, today, WorkdayCalendar(bank=path))] == [2027, 2028]
    cover_year(store, 2027, True, actor="D001", today=today, path=path)
    assert coverage_gaps(store, today, WorkdayCalendar(bank=path)) == [CoverageGap(2028, False, 1)]
    import_calendar(store, BankCalendar({}, {2028: True}), "2028.yml", actor="D001", today=today, path=path)
    assert coverage_gaps(store, today, WorkdayCalendar(bank=path)) == []
