"""What every route shares: the app's configuration (engines passed in, never module singletons), the
errors routes raise, and page rendering with the message catalogue."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from expectations.rulebook import Suite, load_suites
from portal import narrate
from portal.i18n import DEFAULT_LANG, MESSAGES, label, translate
from remediation.calendar_file import CalendarError
from remediation.checks.writeback import WriteBack
from remediation.clock import SHANGHAI, today_shanghai
from remediation.errors import (
    DqgovError,
    InvalidInput,
    InvalidState,
    NotAllowed,
    NotFound,
    SourceError,
    StoreError,
)
from remediation.orchestration.runnow import Trigger
from remediation.policy import PolicyError
from remediation.reporting.freshness import ReportCache
from remediation.reporting.orgtree import InstitutionNode, institution_tree, staff_rows
from remediation.settings import SettingError
from remediation.store.engines import create_engine

if TYPE_CHECKING:
    from portal.jobs import DocsJobs
    from portal.scoping import Viewer

TEMPLATES = Path(__file__).resolve().parent / "templates"
_SOURCE_LOCK = threading.Lock()


class LoginRequired(Exception):
    """No live session: the page redirects to the login form."""


class Forbidden(Exception):
    """A POST without a valid CSRF token, or a page not for the viewer's role (403)."""


class PageNotFound(Exception):
    """Missing, or outside the viewer's scope: both are 404, so ids cannot be probed."""


@dataclass
class PortalConfig:
    store: sa.Engine
    source_url: str
    writeback: Callable[[], WriteBack]
    trigger: Trigger
    datadocs_root: Path
    docs_jobs: DocsJobs
    session_lifetime: dt.timedelta
    secure_cookies: bool
    calendar_file: Path  # the bank's working-day calendar (DQGOV_CALENDAR_FILE)
    today: Callable[[], dt.date] = today_shanghai
    templates: Jinja2Templates = field(default_factory=lambda: make_templates())
    _source: sa.Engine | None = None
    _suites: list[Suite] | None = None
    _reports: ReportCache | None = None

    def reports(self) -> ReportCache:
        """The reporting pages' results, kept while the store's data stands (remediation/reporting/freshness.py)."""
        with _SOURCE_LOCK:
            if self._reports is None:
                self._reports = ReportCache(self.store)
            return self._reports

    def tree(self) -> dict[str, InstitutionNode]:
        """The institution tree, read again only when the institutions change."""
        return self.reports().get(("tree",), lambda: institution_tree(self.store), ("dq_institution",))

    def close(self) -> None:
        """The portal's shutdown: stop listening for the store's changes."""
        if self._reports is not None:
            self._reports.close()

    def suites(self) -> list[Suite]:
        """The rule files, read once (changing a rule means restarting the portal, as for the DAGs' parse)."""
        if self._suites is None:
            self._suites = load_suites()
        return self._suites

    def source(self) -> sa.Engine:
        """The portal's one engine on the source, made on first use: the record page reads through it, the
        corrections write back and re-check through it."""
        with _SOURCE_LOCK:
            if self._source is None:
                self._source = create_engine(self.source_url, "source")
            return self._source


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.auto_reload = False  # the templates ship with the code: no stat of the file on every page
    env.autoescape = True
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.1f}%"
    env.filters["local"] = lambda v: "" if v is None else local_time(v)
    return templates


def local_time(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def config(request: Request) -> PortalConfig:
    cfg: PortalConfig = request.app.state.portal
    return cfg


def lang_of(request: Request) -> str:
    return str(getattr(request.state, "lang", DEFAULT_LANG))


def viewer(request: Request) -> Viewer:
    """The logged-in person, or a redirect to the login form."""
    from portal.auth import current_viewer

    found = current_viewer(request)
    if found is None:
        raise LoginRequired()
    return found


def overseer(request: Request) -> Viewer:
    """A head or the data office (dashboards, the summary table, appeals)."""
    person = viewer(request)
    if not person.oversees:
        raise Forbidden("role")
    return person


def data_office(request: Request) -> Viewer:
    person = viewer(request)
    if not person.is_office:
        raise Forbidden("role")
    return person


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    params.pop("msg", None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def _flash(lang: str, key: str | None) -> str | None:
    """A message named in `?msg=` (only catalogue messages: the query never injects text)."""
    if key and f"msg.{key}" in MESSAGES:
        return translate(lang, f"msg.{key}")
    return None


def render_error(request: Request, code: int, detail: str | None = None) -> HTMLResponse:
    """The error page for `code` in the viewer's language; when even the store is down (a 500), without the
    viewer's header, which needs it."""
    try:
        return render(request, "error.html", {"code": code, "detail": detail}, status_code=code)
    except Exception:
        if code < 500:
            raise
        return render(request, "error.html", {"code": code, "detail": detail}, code, anonymous=True)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200, anonymous: bool = False
) -> HTMLResponse:
    cfg = config(request)
    page = _page(request, context, anonymous)
    return cfg.templates.TemplateResponse(request, template, page, status_code=status_code)


def render_fragment(request: Request, template: str, context: dict[str, Any]) -> Markup:
    """A part of a page, rendered with the page's helpers, to place in a page as it is."""
    page = _page(request, context, anonymous=False)
    return Markup(config(request).templates.get_template(template).render(page))


def _page(request: Request, context: dict[str, Any], anonymous: bool) -> dict[str, Any]:
    """What every template sees: the viewer, the language and its helpers, then `context`."""
    cfg = config(request)
    lang = lang_of(request)
    from portal.auth import current_viewer

    person = None if anonymous else current_viewer(request)
    names: dict[str, str] = {}

    def who(staff_id: str | None) -> str:
        """A person by name, id second (names read once per page)."""
        if staff_id and staff_id not in names and f"actor.{staff_id}" not in MESSAGES:
            found = staff_rows(cfg.store, [staff_id]).get(staff_id)
            names[staff_id] = found.staff_name if found else ""
        return narrate.actor(lang, staff_id, names)

    return {
        "request": request,
        "lang": lang,
        "t": lambda key, **kw: translate(lang, key, **kw),
        "label": lambda prefix, value: label(lang, prefix, value),
        "who": who,
        "narrate": lambda stored: narrate.detail(lang, stored),
        "values_of": lambda stored: narrate.masked_values(lang, stored),
        "enum": lambda value: narrate.enum_value(lang, value),
        "campaign_name": lambda c: translate(lang, "campaigns.default_name") if c.is_default else c.name,
        "viewer": person,
        "csrf": person.csrf_token if person else "",
        # the viewer's unread messages as read with their session (portal/auth.py): a page that marks them
        # read redirects, so the next request reads them again
        "unread": getattr(request.state, "unread", 0) if person else 0,
        "url_with": lambda **kw: url_with(request, **kw),
        "switch_url": url_with(request, lang="en" if lang == "zh" else "zh"),
        "msg": _flash(lang, request.query_params.get("msg")),
        "current_path": request.url.path,
        **context,
    }


# What an uncoded error says on a Chinese page, by its class (the first that matches); a broken
# configuration file says which, its English detail then tells the data office where
GENERIC_MESSAGES: tuple[tuple[type[DqgovError], str], ...] = (
    (PolicyError, "error.generic_policy"),
    (SettingError, "error.generic_setting"),
    (CalendarError, "error.generic_calendar"),
    (NotFound, "error.generic_not_found"),
    (NotAllowed, "error.generic_not_allowed"),
    (InvalidState, "error.generic_invalid_state"),
    (InvalidInput, "error.generic_invalid_input"),
    (SourceError, "error.generic_source"),
    (StoreError, "error.generic_store"),
)


def error_message(request: Request, exc: DqgovError) -> str:
    """The error in the user's language when the catalogue has its code (`error.<code>`). Otherwise the English
    page shows its text, and any other a sentence for its kind, the English only in a collapsed detail."""
    lang = lang_of(request)
    key = f"error.{exc.code}" if exc.code else ""
    if key in MESSAGES:
        return translate(lang, key, **exc.params)
    if lang == "en":
        return str(exc)
    generic = next((k for kind, k in GENERIC_MESSAGES if isinstance(exc, kind)), "error.generic_other")
    return Markup(
        '<span class="error-text">{}</span><details class="tech-detail"><summary>{}</summary>'
        '<code lang="en">{}</code></details>'
    ).format(translate(lang, generic), translate(lang, "error.technical_detail"), str(exc))


def error_status(exc: DqgovError) -> int:
    """The page's status for an error no route caught: 404 (missing or not the viewer's: ids cannot be
    probed), 422 for bad input, 503 when a database cannot be reached, else 409."""
    if isinstance(exc, NotFound | NotAllowed):
        return 404
    if isinstance(exc, InvalidInput):
        return 422
    return 503 if isinstance(exc, SourceError | StoreError) else 409


def error_page(request: Request, exc: DqgovError, status_code: int = 409) -> HTMLResponse:
    return render(
        request, "error.html", {"code": status_code, "detail": error_message(request, exc)}, status_code
    )
