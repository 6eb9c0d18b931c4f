"""The bank's own working-day calendar file (YAML, `DQGOV_CALENDAR_FILE`): holidays and make-up working days.

The State Council publishes each year's schedule (放假调休安排) months before chinese-calendar follows. The
data office enters it here; the file extends chinese-calendar and, where they differ, overrides it.

    years:
      2027:
        covered: true          # the whole year's schedule is entered (even when `days` is empty)
        days:
          - {date: 2027-02-08, kind: holiday, notice: 国办发明电〔2026〕12号, note: 春节}
          - {date: 2027-02-14, kind: workday, notice: 国办发明电〔2026〕12号, note: 春节调休上班}

A missing file is an empty calendar. Every entry is checked on load and a bad one names the file and
the entry. Writes go to a temporary file that replaces the old one (readers see one or the other,
never half), under a lock file, so two writers take turns.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from remediation import settings
from remediation.errors import DqgovError

KINDS = ("holiday", "workday")
MAX_NOTE = 200
MAX_NOTICE = 100
FIRST_YEAR, LAST_YEAR = 1990, 2199
LOCK_WAIT_SECONDS = 30.0
HEADER = (
    "# 本行工作日历：放假调休安排 (the bank's working-day calendar), kept by `dqgov calendar` and the portal.\n"
    "# kind: holiday (放假) | workday (调休上班); covered: true once the year's whole schedule is entered.\n"
)


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad one (2027-02-30) is reported with its entry."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class CalendarError(DqgovError):
    """The calendar file, an import file or a change to the calendar is unusable; the message says where."""


@dataclass(frozen=True)
class BankDay:
    day: dt.date
    kind: str  # holiday | workday
    note: str
    notice: str = ""  # the notice it comes from, e.g. 国办发明电〔2026〕12号


@dataclass(frozen=True)
class BankCalendar:
    """The file's content: entries by date, and per year in the file whether its schedule is complete."""

    days: Mapping[dt.date, BankDay] = field(default_factory=dict)
    covered: Mapping[int, bool] = field(default_factory=dict)  # every year in the file has a flag

    def entry(self, day: dt.date) -> BankDay | None:
        return self.days.get(day)

    def covers(self, year: int) -> bool:
        return self.covered.get(year, False)

    def of_year(self, year: int) -> list[BankDay]:
        return sorted((d for d in self.days.values() if d.day.year == year), key=lambda d: d.day)


def calendar_path() -> Path:
    return Path(settings.get("DQGOV_CALENDAR_FILE"))


# --- reading -------------------------------------------------------------------------------------------


def _text(value: Any, what: str, limit: int, required: bool) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValueError(f"{what} is missing")
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters long; at most {limit} are allowed")
    return text


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"date {value} has a time; give YYYY-MM-DD")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"date {str(value)!r} is not a date in the form YYYY-MM-DD") from None


def _year(key: Any) -> int:
    try:
        year = int(str(key))
    except ValueError:
        raise ValueError(f"{key!r} is not a year") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR}")
    return year


def _entry(raw: Any, year: int) -> BankDay:
    if not isinstance(raw, Mapping):
        raise ValueError("must be a mapping with date, kind, note and (optionally) notice")
    unknown = set(raw) - {"date", "kind", "note", "notice"}
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    day = _date(raw.get("date"))
    if day.year != year:
        raise ValueError(f"date {day} is not in {year}")
    kind = str(raw.get("kind", "")).strip()
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} must be holiday or workday")
    note = _text(raw.get("note"), "note", MAX_NOTE, required=True)
    return BankDay(day, kind, note, _text(raw.get("notice"), "notice", MAX_NOTICE, required=False))


def bank_day(day: dt.date, kind: str, note: str, notice: str = "") -> BankDay:
    """One entry, checked as the file's entries are (kind, a note, lengths)."""
    try:
        return _entry({"date": day, "kind": kind, "note": note, "notice": notice}, day.year)
    except ValueError as exc:
        raise CalendarError(f"{day}: {exc}") from None


def parse_calendar(raw: Any, where: str) -> BankCalendar:
    """The calendar in `raw` (parsed YAML), every entry checked; an error names `where` and the entry."""
    if raw is None:
        return BankCalendar()
    if (
        not isinstance(raw, Mapping)
        or not set(raw) <= {"years"}
        or not isinstance(raw.get("years", {}), Mapping)
    ):
        raise CalendarError(f"{where}: must be a mapping with one key, 'years' (year → covered, days)")
    days: dict[dt.date, BankDay] = {}
    covered: dict[int, bool] = {}
    for key, body in (raw.get("years") or {}).items():
        try:
            year = _year(key)
        except ValueError as exc:
            raise CalendarError(f"{where}: years: {exc}") from None
        if year in covered:
            raise CalendarError(f"{where}: year {year} is given twice")
        body = {} if body is None else body
        if not isinstance(body, Mapping) or not set(body) <= {"covered", "days"}:
            raise CalendarError(f"{where}: year {year}: must be a mapping with 'covered' and 'days'")
        flag = body.get("covered", True)
        if not isinstance(flag, bool):
            raise CalendarError(f"{where}: year {year}: covered must be true or false, got {flag!r}")
        entries = body.get("days") or []
        if not isinstance(entries, list):
            raise CalendarError(f"{where}: year {year}: days must be a list")
        covered[year] = flag
        for n, item in enumerate(entries, start=1):
            label = f"{where}: year {year}, entry {n}"
            if isinstance(item, Mapping) and "date" in item:
                label += f" ({item['date']})"
            try:
                entry = _entry(item, year)
            except ValueError as exc:
                raise CalendarError(f"{label}: {exc}") from None
            if entry.day in days:
                raise CalendarError(f"{label}: {entry.day} is given twice")
            days[entry.day] = entry
    return BankCalendar(days, covered)


def read_calendar(path: Path) -> BankCalendar:
    """The calendar in `path`, read now; a missing file is an empty calendar."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return BankCalendar()
    except OSError as exc:
        raise CalendarError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        raw = yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        raise CalendarError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_calendar(raw, str(path))


@lru_cache(maxsize=16)
def _cached(path: str, mtime_ns: int, size: int) -> BankCalendar:
    return read_calendar(Path(path))


def load_calendar(path: Path | None = None) -> BankCalendar:
    """The calendar in `path` (default: the setting), parsed once per version of the file."""
    path = path or calendar_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return BankCalendar()
    except OSError as exc:
        raise CalendarError(f"{path}: cannot read: {exc.strerror}") from None
    return _cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


# --- writing -------------------------------------------------------------------------------------------


def dump_calendar(calendar: BankCalendar) -> str:
    years: dict[int, Any] = {}
    for year in sorted(calendar.covered):
        entries = []
        for d in calendar.of_year(year):
            entry: dict[str, Any] = {"date": d.day, "kind": d.kind, "note": d.note}
            if d.notice:
                entry["notice"] = d.notice
            entries.append(entry)
        years[year] = {"covered": calendar.covers(year), "days": entries}
    body = yaml.safe_dump({"years": years}, allow_unicode=True, sort_keys=False, width=200)
    return HEADER + body


def write_calendar(path: Path, calendar: BankCalendar) -> None:
    """Replace `path` with `calendar` atomically (a temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(dump_calendar(calendar))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextmanager
def calendar_lock(path: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold `<file>.lock` (an advisory lock the OS frees if the holder dies) while changing the calendar."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a+b") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CalendarError(
                        f"{path}: another change to the calendar is in progress (lock {lock}); try again",
                        code="calendar_busy",
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- changes (pure: each returns a new calendar) -------------------------------------------------------


def with_day(calendar: BankCalendar, entry: BankDay) -> BankCalendar:
    """`entry` added or replaced; a year new to the file starts as not covered."""
    covered = dict(calendar.covered)
    covered.setdefault(entry.day.year, False)
    return BankCalendar({**calendar.days, entry.day: entry}, covered)


def without_day(calendar: BankCalendar, day: dt.date) -> BankCalendar:
    """The day back to the default (chinese-calendar, or Monday–Friday)."""
    return replace(calendar, days={d: e for d, e in calendar.days.items() if d != day})


def with_years(calendar: BankCalendar, imported: BankCalendar) -> BankCalendar:
    """Each year of `imported` replaces that year whole; other years stay as they are."""
    years = set(imported.covered)
    days = {d: e for d, e in calendar.days.items() if d.year not in years}
    return BankCalendar({**days, **imported.days}, {**calendar.covered, **imported.covered})


def with_covered(calendar: BankCalendar, year: int, covered: bool) -> BankCalendar:
    return replace(calendar, covered={**calendar.covered, year: covered})
