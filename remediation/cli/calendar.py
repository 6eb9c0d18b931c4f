"""`dqgov calendar …`: the bank's working-day calendar (本行工作日历), and the coverage warning of `check`/`remind`.

Registered in `remediation.cli.main`; errors raise `DqgovError`, which the CLI prints as one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated

import sqlalchemy as sa
import typer

from remediation.calendar_file import FIRST_YEAR, LAST_YEAR
from remediation.clock import parse_date
from remediation.errors import DqgovError

if TYPE_CHECKING:
    from remediation.workdays import WorkdayCalendar
    from remediation.workflow.calendar import CalendarChange

calendar_app = typer.Typer(
    help="The bank's working-day calendar (本行工作日历): holidays and make-up working days.",
    no_args_is_help=True,
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SHOWN_MOVES = 50

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]
StaffOpt = Annotated[
    str, typer.Option("--staff", help="Employee number of the data-office member making it.")
]
TodayOpt = Annotated[
    str | None,
    typer.Option("--date", help="Today, YYYY-MM-DD (default: today): due dates never move before it."),
]


def _year(value: str) -> int:
    if not value.isdigit() or not FIRST_YEAR <= int(value) <= LAST_YEAR:
        raise DqgovError(f"YEAR {value!r} is not a year between {FIRST_YEAR} and {LAST_YEAR}")
    return int(value)


@calendar_app.command("show")
def show(year: Annotated[str, typer.Argument(help="The year, e.g. 2027.")]) -> None:
    """Every holiday and make-up working day of a year, from chinese-calendar and from the bank's file."""
    from remediation.calendar_file import calendar_path
    from remediation.workdays import WorkdayCalendar, package_covers

    number = _year(year)
    calendar = WorkdayCalendar(lambda _: None)
    package = "covered" if package_covers(number) else "not covered"
    bank = "covered" if calendar.bank.covers(number) else "not covered"
    typer.echo(f"{number} · chinese-calendar: {package} · bank calendar ({calendar_path()}): {bank}")
    day, working = dt.date(number, 1, 1), 0
    while day.year == number:
        status = calendar.status(day)
        working += status.working
        if status.bank or status.package:
            source = "bank" if status.bank else "package"
            counts = "working day" if status.working else "holiday"
            note = ""
            if status.bank:
                note = status.bank.note + (f" ({status.bank.notice})" if status.bank.notice else "")
                if status.package:
                    note += f" [package: {status.package}]"
            typer.echo(f"{day}  {WEEKDAYS[day.weekday()]}  {counts:11}  {source:7}  {note}".rstrip())
        day += dt.timedelta(days=1)
    typer.echo(f"working days in {number}: {working}")
    if not calendar.covers(number):
        typer.echo(f"{number} is not covered: apart from the entries above, Monday–Friday are working days")


def _report(change: CalendarChange, nothing: str) -> None:
    if not change.changed:
        typer.echo(nothing)
        return
    typer.echo(f"due dates moved: {len(change.moved)}")
    for move in change.moved[:SHOWN_MOVES]:
        typer.echo(
            f"  to-do {move.todo_id} {move.table_name} {move.record_key} {move.rule_id}: "
            f"{move.old} -> {move.new}"
        )
    if len(change.moved) > SHOWN_MOVES:
        typer.echo(f"  … and {len(change.moved) - SHOWN_MOVES} more")


@calendar_app.command("set")
def set_day(
    date: Annotated[str, typer.Argument(help="The day, YYYY-MM-DD.")],
    choice: Annotated[str, typer.Argument(help="holiday | workday (make-up working day) | default")],
    note: Annotated[str, typer.Option("--note", help="Why, e.g. 春节 or 春节调休上班.")],
    staff: StaffOpt,
    notice: Annotated[str, typer.Option("--notice", help="The notice, e.g. 国办发明电〔2026〕12号.")] = "",
    today: TodayOpt = None,
    store_url: StoreOpt = None,
) -> None:
    """Mark a day a holiday or a make-up working day, or put it back to the default; due dates follow."""
    from remediation.calendar_file import calendar_path
    from remediation.store.engines import open_store
    from remediation.workflow.calendar import set_day as run_set_day

    day = parse_date(date, "DATE")
    if choice not in ("holiday", "workday", "default"):
        raise DqgovError(f"{choice!r}: choose holiday, workday or default")
    change = run_set_day(
        open_store(store_url),
        day,
        choice,
        note,
        notice=notice,
        actor=staff,
        today=parse_date(today, "--date"),
    )
    where = calendar_path()
    if change.changed:
        what = {"holiday": "a holiday", "workday": "a make-up working day", "default": "back to the default"}
        typer.echo(f"{day} ({WEEKDAYS[day.weekday()]}) is {what[choice]} in the bank's calendar {where}")
    _report(change, f"{day}: the bank's calendar already says so; nothing changed")
    if change.changed and not change.calendar.covers(day.year):
        typer.echo(
            f"note: {day.year} is not marked covered: once its whole schedule is entered, run "
            f"`dqgov calendar cover {day.year} --staff {staff}`"
        )


@calendar_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A YAML file shaped like the calendar file (years → days).")],
    staff: StaffOpt,
    today: TodayOpt = None,
    store_url: StoreOpt = None,
) -> None:
    """Import whole years (e.g. the State Council's new schedule): each year in FILE replaces that year."""
    from remediation.calendar_file import read_calendar
    from remediation.store.engines import open_store
    from remediation.workflow.calendar import import_calendar

    if not file.is_file():
        raise DqgovError(f"{file}: no such file")
    imported = read_calendar(file)  # checked whole before anything changes
    if not imported.covered:
        raise DqgovError(f"{file}: has no years to import")
    change = import_calendar(
        open_store(store_url), imported, str(file), actor=staff, today=parse_date(today, "--date")
    )
    years = ", ".join(f"{y} ({len(imported.of_year(y))} days)" for y in sorted(imported.covered))
    if change.changed:
        typer.echo(f"imported {years} from {file}")
    _report(change, f"{file}: the bank's calendar already has {years}; nothing changed")


@calendar_app.command("cover")
def cover(
    year: Annotated[str, typer.Argument(help="The year whose whole schedule is entered.")],
    staff: StaffOpt,
    undo: Annotated[bool, typer.Option("--undo", help="Mark the year not covered again.")] = False,
    store_url: StoreOpt = None,
) -> None:
    """Say that a year's whole schedule is in the bank's calendar: the coverage warning stops for it."""
    from remediation.clock import today_shanghai
    from remediation.store.engines import open_store
    from remediation.workflow.calendar import cover_year

    number = _year(year)
    change = cover_year(open_store(store_url), number, not undo, actor=staff, today=today_shanghai())
    state = "not covered" if undo else "covered"
    typer.echo(
        f"{number}: {state} by the bank's calendar" if change.changed else f"{number}: already {state}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")


# --- the coverage warning ------------------------------------------------------------------------------


def warn_coverage(store: sa.Engine | None, today: dt.date, calendar: WorkdayCalendar | None = None) -> None:
    """`warning:` lines on stderr for the uncovered years that matter as of `today`."""
    from remediation.reporting.calendar_coverage import coverage_gaps, describe_gap

    for gap in coverage_gaps(store, today, calendar):
        typer.echo(f"warning: {describe_gap(gap)}", err=True)


class _OnSuccess:
    """A click resource that runs `then` when the command ended without an error."""

    def __init__(self, then: Callable[[], None]) -> None:
        self.then = then

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.then()


def warn_coverage_when_done(ctx: typer.Context, store_url: str | None, check_date: str | None) -> None:
    """For `dqgov check`: once the command has succeeded, warn about uncovered years as of the check date.

    Called first thing in the command; the warning comes after its output, and a command that fails
    ends in its one error line alone.
    """

    def then() -> None:
        from remediation.store.engines import open_store

        try:
            warn_coverage(open_store(store_url), parse_date(check_date, "--check-date"))
        except DqgovError as exc:
            typer.echo(f"warning: the calendar's coverage could not be checked: {exc}", err=True)

    ctx.with_resource(_OnSuccess(then))
