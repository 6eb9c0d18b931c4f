"""The data office's working-day calendar: a year in 12 month grids, each day as it counts (working day or
day off) and why (chinese-calendar or the bank's own entry). Choosing a day offers holiday, make-up
working day or back to the default, with a note; saving moves the due dates the change affects."""

from __future__ import annotations

import calendar as month_grid
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from portal.auth import client_of
from portal.deps import PageNotFound, PortalConfig, config, data_office, error_message, lang_of, render
from portal.i18n import translate
from portal.scoping import Viewer
from remediation.calendar_file import FIRST_YEAR, LAST_YEAR, MAX_NOTE, MAX_NOTICE, CalendarError
from remediation.errors import DqgovError
from remediation.reporting.calendar_coverage import CoverageGap, coverage_gaps
from remediation.workdays import DayStatus, WorkdayCalendar, package_covers
from remediation.workflow.calendar import CHOICES, cover_year, set_day

router = APIRouter(prefix="/office/calendar")
Office = Annotated[Viewer, Depends(data_office)]


@dataclass(frozen=True)
class Month:
    number: int
    weeks: list[list[DayStatus | None]]  # Monday first; None: a day of the next or previous month


def calendar_gaps(cfg: PortalConfig, calendar: WorkdayCalendar | None = None) -> list[CoverageGap]:
    """The coverage warning as of the portal's today (the data office's dashboard shows it too)."""
    calendar = calendar or WorkdayCalendar(lambda _: None, bank=cfg.calendar_file)
    return coverage_gaps(cfg.store, cfg.today(), calendar)


def year_grid(calendar: WorkdayCalendar, year: int) -> list[Month]:
    """Each month's weeks, Monday first, with how each of its days counts."""
    grid = month_grid.Calendar(firstweekday=0)

    def weeks(m: int) -> list[list[DayStatus | None]]:
        return [
            [calendar.status(d) if d.month == m else None for d in week]
            for week in grid.monthdatescalendar(year, m)
        ]

    return [Month(m, weeks(m)) for m in range(1, 13)]


def _year(value: str | None, today: dt.date) -> int:
    if not value:
        return today.year
    if not value.isdigit() or not FIRST_YEAR <= int(value) <= LAST_YEAR:
        raise PageNotFound()
    return int(value)


def _day(value: str | None, year: int) -> dt.date | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise PageNotFound() from None
    if day.year != year:
        raise PageNotFound()
    return day


def calendar_page(
    request: Request,
    year: int,
    day: dt.date | None,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    cfg = config(request)
    calendar = WorkdayCalendar(lambda _: None, bank=cfg.calendar_file)
    moved = request.query_params.get("moved", "")
    context: dict[str, Any] = {
        "year": year,
        "months": year_grid(calendar, year),
        "selected": calendar.status(day) if day else None,
        "entries": calendar.bank.of_year(year),
        "package_covers": package_covers(year),
        "bank_covers": calendar.bank.covers(year),
        "gaps": calendar_gaps(cfg, calendar),
        "moved": int(moved) if moved.isdigit() else None,
        "error": error,
        "form": form or {},
        "max_note": MAX_NOTE,
        "max_notice": MAX_NOTICE,
    }
    return render(request, "office_calendar.html", context, status_code=422 if error else 200)


@router.get("")
def calendar_view(
    request: Request,
    person: Office,
    year: Annotated[str | None, Query(max_length=4)] = None,
    day: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    number = _year(year, config(request).today())
    return calendar_page(request, number, _day(day, number))


def _fields(form: Any) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}


@router.post("/day")
async def calendar_set_day(request: Request, person: Office) -> Response:
    fields = _fields(await request.form())
    return await run_in_threadpool(_set_day, request, person, fields)


def _set_day(request: Request, person: Viewer, fields: dict[str, str]) -> Response:
    cfg, lang = config(request), lang_of(request)
    try:
        day = dt.date.fromisoformat(fields.get("day", ""))
    except ValueError:
        return calendar_page(request, cfg.today().year, None, translate(lang, "calendar.error_day"), fields)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return calendar_page(request, cfg.today().year, None, translate(lang, "calendar.error_day"), fields)
    choice, note, notice = (
        fields.get("choice", ""),
        fields.get("note", "").strip(),
        fields.get("notice", "").strip(),
    )
    problem = None
    if choice not in CHOICES:
        problem = "calendar.error_choice"
    elif not note:
        problem = "calendar.error_note"
    elif len(note) > MAX_NOTE or len(notice) > MAX_NOTICE:
        problem = "calendar.error_long"
    if problem:
        return calendar_page(
            request, day.year, day, translate(lang, problem, note=MAX_NOTE, notice=MAX_NOTICE), fields
        )
    try:
        change = set_day(
            cfg.store,
            day,
            choice,
            note,
            notice=notice,
            actor=person.staff_id,
            today=cfg.today(),
            path=cfg.calendar_file,
            client=client_of(request),
        )
    except CalendarError as exc:
        return calendar_page(request, day.year, day, _not_saved(request, exc), fields)
    msg = "calendar_saved" if change.changed else "calendar_unchanged"
    return RedirectResponse(
        f"/office/calendar?year={day.year}&day={day}&msg={msg}&moved={len(change.moved)}#edit",
        status_code=303,
    )


def _not_saved(request: Request, exc: DqgovError) -> str:
    """ "The calendar was not saved: …" with why, in the viewer's language."""
    lead = translate(lang_of(request), "calendar.error_busy", detail="")
    return Markup(escape(lead)) + escape(error_message(request, exc))


@router.post("/cover")
async def calendar_cover(request: Request, person: Office) -> Response:
    fields = _fields(await request.form())
    return await run_in_threadpool(_cover, request, person, fields)


def _cover(request: Request, person: Viewer, fields: dict[str, str]) -> Response:
    cfg = config(request)
    year, covered = fields.get("year", ""), fields.get("covered", "")
    if not year.isdigit() or not FIRST_YEAR <= int(year) <= LAST_YEAR or covered not in ("yes", "no"):
        raise PageNotFound()
    try:
        cover_year(
            cfg.store,
            int(year),
            covered == "yes",
            actor=person.staff_id,
            today=cfg.today(),
            path=cfg.calendar_file,
            client=client_of(request),
        )
    except DqgovError as exc:
        return calendar_page(request, int(year), None, _not_saved(request, exc), fields)
    return RedirectResponse(f"/office/calendar?year={year}&msg=calendar_saved", status_code=303)
