"""Working days: the Chinese statutory calendar (holidays and make-up working days, 调休) plus the bank's own.

A day is decided by, in order: the bank's calendar file (`remediation.calendar_file`), which the data
office fills as soon as the State Council publishes a year; chinese-calendar, for the years it covers;
Monday–Friday. A year that neither covers falls back to Monday–Friday and warns once per year, so due
dates are still given but the operator knows they may be off around holidays.

`WorkdayCalendar()` with no arguments reads the bank file the settings name (parsed once per version of
the file), so every caller that builds it bare (reconcile, SLA, reminders) counts the bank's days.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar

from remediation.calendar_file import BankCalendar, BankDay, load_calendar

log = logging.getLogger(__name__)
PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def package_covers(year: int) -> bool:
    """Whether chinese-calendar knows the State Council's schedule for `year`."""
    return year in PACKAGE_YEARS


@dataclass(frozen=True)
class DayStatus:
    """How a day counts, and why."""

    day: dt.date
    working: bool
    package: str | None  # chinese-calendar's own: holiday | workday (make-up); None: an ordinary day
    bank: BankDay | None  # the bank's entry, which wins over the package
    covered: bool  # the package or the bank's file covers the day's year


class WorkdayCalendar:
    """Working days on chinese-calendar plus the bank's file.

    `bank` is the bank's calendar (a `BankCalendar`, or a file to read); None: the file the settings name.
    """

    def __init__(
        self, warn: Callable[[str], None] = log.warning, bank: BankCalendar | Path | None = None
    ) -> None:
        self._warn = warn
        self._warned: set[int] = set()
        self.bank = bank if isinstance(bank, BankCalendar) else load_calendar(bank)
        self._memo: dict[dt.date, bool] = {}

    def covers(self, year: int) -> bool:
        return package_covers(year) or self.bank.covers(year)

    def is_workday(self, day: dt.date) -> bool:
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = self._decide(day)
        return known

    def _decide(self, day: dt.date) -> bool:
        entry = self.bank.entry(day)
        if entry is not None:
            return entry.kind == "workday"
        if package_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        if not self.bank.covers(day.year) and day.year not in self._warned:
            self._warned.add(day.year)
            self._warn(
                f"the statutory holiday calendar does not cover {day.year}; counting Monday–Friday as "
                "working days for that year (enter the State Council's schedule with `dqgov calendar`, "
                "or upgrade chinese-calendar when it has the year)"
            )
        return day.weekday() < 5

    def status(self, day: dt.date) -> DayStatus:
        package = None
        if package_covers(day.year):
            if day in chinese_calendar.holidays:
                package = "holiday"
            elif day in chinese_calendar.workdays:
                package = "workday"
        return DayStatus(day, self.is_workday(day), package, self.bank.entry(day), self.covers(day.year))

    def add(self, start: dt.date, working_days: int) -> dt.date:
        """The date `working_days` working days after `start` (start itself not counted)."""
        day = start
        remaining = working_days
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; 0 when end is not after start."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count
