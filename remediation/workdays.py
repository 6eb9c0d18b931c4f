"""Working days on the Chinese statutory calendar (holidays and make-up working days, 调休).

chinese-calendar covers the years the State Council has published. For a year it does not cover, the
calendar falls back to Monday–Friday and warns once per year, so due dates are still given but the
operator knows they may be off around holidays.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import chinese_calendar

log = logging.getLogger(__name__)


class WorkdayCalendar:
    def __init__(self, warn: Callable[[str], None] = log.warning) -> None:
        self._warn = warn
        self._warned: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                self._warn(
                    f"the statutory holiday calendar does not cover {day.year}; counting Monday–Friday as "
                    "working days for that year (upgrade chinese-calendar when the State Council publishes it)"
                )
            return day.weekday() < 5

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
