"""Input the portal refuses before a route runs, so that no bad parameter reaches the store as a 500.

- Path and query values: no control characters (PostgreSQL cannot hold NUL in text; the rest is never
  typed by a person), at most `MAX_PARAM` characters.
- Form fields: no NUL and no control characters other than tab and line breaks (a reason may have lines).
- Ids fit the store's INTEGER columns (PostgreSQL's int4; SQLite overflows past int8): `Id`, `OptionalId`.
- Dates in the bank's range: `parse_day`.
A refusal is `BadInput`, which the app renders as a 400 page naming the parameter (portal/app.py).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import Path, Query, Request

MAX_ID = 2**31 - 1
MAX_PARAM = 1000
FIRST_DAY = dt.date(2000, 1, 1)

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORM_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadInput(Exception):
    """A parameter the portal refuses: `problem` is a key of the catalogue's `error.problem_*` messages."""

    def __init__(self, field: str, problem: str, **values: object) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field[:40]
        self.problem = problem
        self.values = values


def _check(name: str, value: str, control: re.Pattern[str], limit: int | None) -> None:
    shown = _CONTROL.sub("?", name)
    if control.search(name) or control.search(value):
        raise BadInput(shown, "control")
    if limit is not None and (len(value) > limit or len(name) > limit):
        raise BadInput(shown, "too_long")


async def reject_bad_input(request: Request) -> None:
    """App-level dependency: refuse control characters and over-long values in the path, query and form."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            _check(name, value, _CONTROL, MAX_PARAM)
    for name, value in request.query_params.multi_items():
        _check(name, value, _CONTROL, MAX_PARAM)
    if request.method == "POST":
        form = await request.form()
        for name, field in form.multi_items():
            if isinstance(field, str):
                _check(name, field, _FORM_CONTROL, None)


def parse_day(value: str, field: str, last: dt.date) -> dt.date:
    """`value` as YYYY-MM-DD between `FIRST_DAY` and `last` (the bank's today), else `BadInput`."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(field, "date") from None
    if not FIRST_DAY <= day <= last:
        raise BadInput(field, "date_range", first=FIRST_DAY.isoformat(), last=last.isoformat())
    return day
