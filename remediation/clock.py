"""Time as the platform sees it: instants in UTC, the bank's calendar day in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from remediation.errors import DqgovError

TIMEZONE = "Asia/Shanghai"  # the bank's calendar day; Airflow's schedules too
SHANGHAI = ZoneInfo(TIMEZONE)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """An instant read back from the store: SQLite gives naive datetimes, which were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def today_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def parse_date(value: str | None, option: str, *, not_after_today: bool = False) -> dt.date:
    """`value` as YYYY-MM-DD (today in Asia/Shanghai when None); a bad one names `option`.

    With `not_after_today`, a date after today is refused too (the day of a check, a reminder, a snapshot).
    """
    if value is None:
        return today_shanghai()
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DqgovError(
            f"{option} {value!r} is not a date in the form YYYY-MM-DD", code="bad_date", value=value
        ) from None
    if not_after_today:
        refuse_future(day, option)
    return day


def refuse_future(day: dt.date, what: str, today: dt.date | None = None) -> None:
    """A day after today (Asia/Shanghai) would stamp the data as it is now with a date to come."""
    limit = today or today_shanghai()
    if day > limit:
        raise DqgovError(
            f"{what} {day.isoformat()} is after today ({limit.isoformat()}, Asia/Shanghai): "
            "only today or an earlier day can be used",
            code="date_after_today",
            day=day.isoformat(),
            today=limit.isoformat(),
        )
