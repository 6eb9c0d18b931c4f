"""Time as the platform sees it: instants in UTC, the bank's calendar day in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from remediation.errors import DqgovError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def parse_date(value: str | None, option: str) -> dt.date:
    """`value` as YYYY-MM-DD (today in Asia/Shanghai when None); a bad one names `option`."""
    if value is None:
        return today_shanghai()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DqgovError(f"{option} {value!r} is not a date in the form YYYY-MM-DD") from None
