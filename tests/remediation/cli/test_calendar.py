"""`dqgov calendar …` and the coverage warning of `check` and `remind`, as an operator runs them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.store.engines import open_store
from remediation.store.models import Todo
from remediation.store.workflow_models import AuditEntry
from tests.factories import CHECK_DATE, build_source, merchant_row
from tests.storedata import add_todos, seed_org

DQGOV = str(Path(sys.executable).with_name("dqgov"))
D = dt.date
FESTIVAL = "".join(
    f"      - {{date: 2027-02-{d:02d}, kind: holiday, notice: 国办发明电〔2026〕12号, note: 春节}}\n"
    for d in range(6, 13)
)
SCHEDULE = (
    "years:\n  2027:\n    days:\n"
    + FESTIVAL
    + "      - {date: 2027-02-20, kind: workday, notice: 国办发明电〔2026〕12号, note: 春节调休上班}\n"
)


def dqgov(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DQGOV, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def bank(databases: Any, tmp_path: Path) -> tuple[sa.Engine, dict[str, str]]:
    """A store with the org and one to-do due on Monday 8 February 2027 (Mon–Fri counting)."""
    store_url = databases.new("store")
    store = open_store(store_url)
    seed_org(store)
    add_todos(store, [{"key": "festival", "assignee": "M101", "due": D(2027, 2, 8)}], D(2027, 2, 1))
    env = {
        "DQGOV_STORE_URL": store_url,
        "DQGOV_HOME": str(tmp_path),
        "DQGOV_CALENDAR_FILE": str(tmp_path / "var" / "bank_calendar.yml"),
    }
    return store, env


def one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dqgov: error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def state(store: sa.Engine) -> tuple[list[str], list[Any]]:
    with store.connect() as conn:
        actions = list(conn.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        due = list(conn.scalars(sa.select(Todo.due_date).order_by(Todo.id)))
    return actions, due


def test_import_then_show_and_set_move_the_due_date(
    bank: tuple[sa.Engine, dict[str, str]], tmp_path: Path
) -> None:
    store, env = bank
    schedule = tmp_path / "2027.yml"
    schedule.write_text(SCHEDULE, encoding="utf-8")
    done = dqgov("calendar", "import", str(schedule), "--staff", "D001", "--date", "2027-01-04", env=env)
    assert done.returncode == 0, done.stderr
    assert f"imported 2027 (8 days) from {schedule}" in done.stdout
    assert "festival MER-B2-LEGAL-REP-ID: 2027-02-08 -> 2027-02-15" in done.stdout
    assert state(store) == (["calendar_import"], [D(2027, 2, 15)])
    shown = dqgov("calendar", "show", "2027", env=env)
    assert shown.returncode == 0, shown.stderr
    assert (
        "2027 · chinese-calendar: not covered · bank calendar" in shown.stdout and ": covered" in shown.stdout
    )
    assert "2027-02-08  Mon  holiday      bank     春节 (国办发明电〔2026〕12号)" in shown.stdout
    assert "2027-02-20  Sat  working day  bank     春节调休上班" in shown.stdout
    assert "working days in 2027: 257" in shown.stdout  # 261 weekdays − 5 off + 1 make-up Saturday
    moved = dqgov(
        "calendar",
        "set",
        "2027-02-12",
        "default",
        "--note",
        "周五上班",
        "--staff",
        "D001",
        "--date",
        "2027-01-04",
        env=env,
    )
    assert moved.returncode == 0, moved.stderr
    assert "2027-02-12 (Fri) is back to the default" in moved.stdout
    assert state(store) == (["calendar_import", "calendar_set"], [D(2027, 2, 12)])


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            SCHEDULE.replace("2027-02-08", "2027-02-30"),
            "year 2027, entry 3 (2027-02-30): date '2027-02-30' is not a date",
        ),
        (
            SCHEDULE.replace("2027-02-08", "2026-02-08"),
            "year 2027, entry 3 (2026-02-08): date 2026-02-08 is not in 2027",
        ),
        (
            SCHEDULE.replace("kind: workday", "kind: makeup"),
            "year 2027, entry 8 (2027-02-20): kind 'makeup' must be holiday or workday",
        ),
        (
            SCHEDULE.replace("2027-02-09", "2027-02-08"),
            "year 2027, entry 4 (2027-02-08): 2027-02-08 is given twice",
        ),
    ],
)
def test_a_bad_import_file_is_one_line_naming_file_and_entry_and_changes_nothing(
    bank: tuple[sa.Engine, dict[str, str]], tmp_path: Path, content: str, fragment: str
) -> None:
    store, env = bank
    calendar = Path(env["DQGOV_CALENDAR_FILE"])
    schedule = tmp_path / "2027.yml"
    schedule.write_text(content, encoding="utf-8")
    before = state(store)
    one_line_error(
        dqgov("calendar", "import", str(schedule), "--staff", "D001", env=env), str(schedule), fragment
    )
    assert state(store) == before and not calendar.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ("calendar", "set", "2027-02-30", "holiday", "--note", "x", "--staff", "D001"),
            "DATE '2027-02-30' is not a date",
        ),
        (
            ("calendar", "set", "2027-02-08", "off", "--note", "x", "--staff", "D001"),
            "'off': choose holiday, workday or default",
        ),
        (
            ("calendar", "set", "2027-02-08", "holiday", "--note", " ", "--staff", "D001"),
            "2027-02-08: note is missing",
        ),
        (
            ("calendar", "set", "2027-02-08", "holiday", "--note", "春节", "--staff", "M101"),
            "not in the data office",
        ),
        (("calendar", "import", "missing.yml", "--staff", "D001"), "missing.yml: no such file"),
        (("calendar", "show", "27"), "YEAR '27' is not a year"),
    ],
)
def test_bad_calendar_commands_are_one_line(
    bank: tuple[sa.Engine, dict[str, str]], args: tuple[str, ...], fragment: str
) -> None:
    store, env = bank
    before = state(store)
    one_line_error(dqgov(*args, env=env), fragment)
    assert state(store) == before


def test_check_warns_after_its_output_and_stops_once_the_year_is_covered(
    databases: Any, tmp_path: Path
) -> None:
    source_url, store_url = databases.new("source"), databases.new("store")
    build_source(source_url, [merchant_row(1, contact_phone="12345")])
    env = {
        "DQGOV_STORE_URL": store_url,
        "DQGOV_HOME": str(tmp_path),
        "DQGOV_CALENDAR_FILE": str(tmp_path / "bank_calendar.yml"),
    }
    check = ("check", "--source-url", source_url, "--check-date", str(CHECK_DATE))
    done = dqgov(*check, env=env)
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "does not cover 2027 (the next 90 days reach into it)" in warning[0]
    assert done.stderr.rstrip().endswith(warning[0])  # after the run's own progress lines
    failed = dqgov("check", "--source-url", "not a url", "--check-date", str(CHECK_DATE), env=env)
    one_line_error(failed, "is not a SQLAlchemy URL")  # a failed check: its one error line alone
    cover = dqgov("calendar", "cover", "2027", "--staff", "D001", env=env)
    assert cover.returncode == 0 and cover.stdout.strip() == "2027: covered by the bank's calendar", (
        cover.stderr
    )
    again = dqgov(*check, env=env)
    assert again.returncode == 0 and "warning: the working-day calendar" not in again.stderr, again.stderr


def test_remind_on_a_holiday_sends_nothing_and_says_so(
    bank: tuple[sa.Engine, dict[str, str]], tmp_path: Path
) -> None:
    store, env = bank
    add_todos(store, [{"key": "late", "assignee": "M102", "due": D(2026, 11, 20)}], D(2026, 11, 6))
    done = dqgov(
        "calendar",
        "set",
        "2026-11-23",
        "holiday",
        "--note",
        "本行停业",
        "--staff",
        "D001",
        "--date",
        "2026-11-20",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    holiday = dqgov("remind", "--date", "2026-11-23", env=env)  # a Monday the bank made a holiday
    assert holiday.returncode == 0, holiday.stderr
    assert holiday.stdout.strip() == (
        "2026-11-23: 非工作日 (not a working day): no due-soon marks, cards or escalations; nothing sent; "
        "the next working day catches up"
    )
    assert "warning: the working-day calendar does not cover 2027" in holiday.stderr
    working = dqgov("remind", "--date", "2026-11-24", env=env)  # the next working day catches up
    assert working.returncode == 0, working.stderr
    assert "2026-11-24: due soon 0, yellow cards 1" in working.stdout and "digests 2" in working.stdout
