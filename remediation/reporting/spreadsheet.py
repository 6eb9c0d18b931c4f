"""Cells for CSV and Excel output, neutralised against formula injection (OWASP "CSV injection").

A spreadsheet runs a text cell that starts with `=`, `+`, `-` or `@` (and, after a tab or CR, what
follows) as a formula: an institution named `=HYPERLINK(…)` would become a live link. Such text gets a
leading `'`, which Excel and WPS show as text. Numbers, dates and text that is a plain number (`-12.5`)
are left as they are, so a negative number stays a number.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutral(value: Any) -> Any:
    """The value as a spreadsheet cell: formula-like text prefixed with `'`, anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutral_row(row: Iterable[Any]) -> list[Any]:
    return [neutral(v) for v in row]


class _Writer(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class SafeCsvWriter:
    """`csv.writer` whose every cell goes through `neutral`."""

    def __init__(self, fh: Any) -> None:
        self._writer: _Writer = csv.writer(fh)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(neutral_row(row))


def csv_writer(fh: Any) -> SafeCsvWriter:
    """The one CSV writer for every CSV the platform writes."""
    return SafeCsvWriter(fh)
