"""Working days on the statutory calendar: National Day 2026, its make-up Saturday, and an uncovered year."""

from __future__ import annotations

import datetime as dt

import pytest

from remediation.workdays import WorkdayCalendar

D = dt.date


def test_national_day_holiday_and_make_up_saturday() -> None:
    cal = WorkdayCalendar()
    assert [cal.is_workday(D(2026, 10, d)) for d in range(1, 13)] == [
        *[False] * 7,  # 1–7 October: National Day (and Mid-Autumn) holiday, weekdays included
        True,  # Thu 8
        True,  # Fri 9
        True,  # Sat 10: make-up working day (调休)
        False,  # Sun 11
        True,  # Mon 12
    ]


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 9, 30), 1, D(2026, 10, 8)),  # the holiday is skipped whole
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # the make-up Saturday counts
        (D(2026, 9, 30), 4, D(2026, 10, 12)),
        (D(2026, 9, 28), 5, D(2026, 10, 10)),
        (D(2026, 10, 3), 0, D(2026, 10, 3)),
    ],
)
def test_add_working_days_across_the_holiday(start: dt.date, days: int, expected: dt.date) -> None:
    assert WorkdayCalendar().add(start, days) == expected


def test_between_counts_working_days_after_start_up_to_end() -> None:
    cal = WorkdayCalendar()
    assert cal.between(D(2026, 9, 30), D(2026, 10, 7)) == 0
    assert cal.between(D(2026, 9, 30), D(2026, 10, 13)) == 5  # 8, 9, 10 (Sat), 12, 13
    assert cal.between(D(2026, 10, 13), D(2026, 9, 30)) == 0


def test_an_uncovered_year_falls_back_to_monday_to_friday_and_warns_once() -> None:
    warnings: list[str] = []
    cal = WorkdayCalendar(warn=warnings.append)
    assert cal.is_workday(D(2027, 1, 1))  # New Year's Day, but 2027 is not in chinese-calendar 1.11
    assert not cal.is_workday(D(2027, 1, 2))
    assert cal.add(D(2026, 12, 31), 2) == D(2027, 1, 4)
    assert len(warnings) == 1 and "2027" in warnings[0] and "Monday–Friday" in warnings[0]


def test_the_fallback_warning_goes_to_the_log_by_default(caplog: pytest.LogCaptureFixture) -> None:
    WorkdayCalendar().is_workday(D(2027, 3, 1))
    assert any("does not cover 2027" in r.getMessage() for r in caplog.records)
