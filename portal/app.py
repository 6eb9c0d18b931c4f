"""The portal: a FastAPI app with Jinja2 pages for account managers, heads and the data office.

`create_app(store, source_url, ...)` builds it from what it is given (tests pass their own engines);
`create_app()` with no arguments reads the settings, so `uvicorn --factory portal.app:create_app` and
`dqgov serve` work as they are. Every label comes from `portal.i18n`; static assets (CSS, ECharts) are
served by the app itself, and the Content-Security-Policy allows nothing from elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.auth import csrf_protect
from portal.deps import (
    Forbidden,
    LoginRequired,
    PageNotFound,
    PortalConfig,
    error_message,
    error_status,
    lang_of,
    render,
    render_error,
)
from portal.guard import BadInput, reject_bad_input
from portal.i18n import DEFAULT_LANG, LANG_COOKIE, LANGS, label, resolve_lang, translate
from portal.jobs import DocsJobs
from portal.routes import assign, auth, calendar, evidence, head, office, ops, todos, workbooks
from remediation import settings
from remediation.calendar_file import calendar_path
from remediation.checks.writeback import WriteBack, writeback_for
from remediation.errors import DqgovError
from remediation.orchestration.runnow import Trigger, trigger_from_settings
from remediation.reporting.datadocs import docs_root
from remediation.reporting.metrics import metrics_registry
from remediation.store.engines import open_store

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "sandbox; default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
)


def create_app(
    store: sa.Engine | None = None,
    source_url: str | None = None,
    *,
    writeback: WriteBack | None = None,
    trigger: Trigger | None = None,
    datadocs_root: Path | None = None,
    today: Callable[[], dt.date] | None = None,
    secure_cookies: bool | None = None,
    session_hours: float | None = None,
    calendar_file: Path | None = None,
    metrics_token: str | None = None,
) -> FastAPI:
    """The portal app. Anything not given comes from the settings (remediation/settings.py)."""
    store = store if store is not None else open_store()
    source = source_url or settings.get("DQGOV_SOURCE_URL")
    root = datadocs_root or docs_root()
    made: list[WriteBack] = [writeback] if writeback is not None else []

    def get_writeback() -> WriteBack:  # on the portal's one source engine
        if not made:
            made.append(writeback_for(cfg.source()))
        return made[0]

    cfg = PortalConfig(
        store=store,
        source_url=source,
        writeback=get_writeback,
        trigger=trigger or trigger_from_settings(source),
        datadocs_root=root,
        docs_jobs=DocsJobs(store, source, root),
        session_lifetime=dt.timedelta(hours=session_hours or settings.number_of("DQGOV_SESSION_HOURS")),
        secure_cookies=secure_cookies
        if secure_cookies is not None
        else settings.flag_of("DQGOV_COOKIE_SECURE"),
        calendar_file=calendar_file or calendar_path(),
    )
    if today is not None:
        cfg.today = today

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        cfg.close()

    app = FastAPI(
        title="dqgov portal",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect), Depends(reject_bad_input)],
    )
    app.state.portal = cfg
    app.state.metrics = metrics_registry(store, lambda: [suite.table for suite in cfg.suites()])
    app.state.metrics_token = (
        metrics_token if metrics_token is not None else settings.get("DQGOV_METRICS_TOKEN")
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # evidence before todos: its /todos/…/evidence route is more specific than todos' /{action}
    for module in (ops, auth, evidence, todos, assign, head, office, calendar, workbooks):
        app.include_router(module.router)
    _middleware(app)
    _error_pages(app)
    return app


def _middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def frame(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        asked = request.query_params.get("lang")
        lang = resolve_lang(asked, request.cookies.get(LANG_COOKIE))
        response: Response
        if lang is None:
            cookie = request.cookies.get(LANG_COOKIE)
            request.state.lang = cookie if cookie in LANGS else DEFAULT_LANG
            response = render_error(request, 422, translate(request.state.lang, "error.lang"))
        else:
            request.state.lang = lang
            response = await _last_resort(request, call_next)
        if asked is not None and lang is not None:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
        docs = "/docs/" in request.url.path and request.url.path.startswith("/office/runs/")
        response.headers["Content-Security-Policy"] = DOCS_CSP if docs else CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response


async def _last_resort(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """The route's answer, or, when it fails unexpectedly, a 500 page in the viewer's language: the trace is
    logged, never shown."""
    try:
        return await call_next(request)
    except Exception:
        logging.getLogger("portal").exception("unhandled error on %s %s", request.method, request.url.path)
        return render_error(request, 500)


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target if target.startswith('/') else '/'}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"code": 403}, status_code=403)

    @app.exception_handler(PageNotFound)
    async def not_found(request: Request, exc: PageNotFound) -> Response:
        return render(request, "error.html", {"code": 404}, status_code=404)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return render(request, "error.html", {"code": 404}, status_code=404)
        return render_error(request, exc.status_code)

    @app.exception_handler(DqgovError)
    async def refused(request: Request, exc: DqgovError) -> Response:
        """An error no route caught: said in the viewer's language rather than as a bare 500."""
        status = error_status(exc)
        if status == 404:
            return render(request, "error.html", {"code": 404}, status_code=404)
        return render_error(request, status, error_message(request, exc))

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        lang = lang_of(request)
        problem = translate(lang, f"error.problem_{exc.problem}", **exc.values)
        field = label(lang, "param", exc.field)
        return render_error(request, 400, translate(lang, "error.400_text", field=field, problem=problem))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        lang = lang_of(request)
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")}) or ["?"]
        problem = translate(lang, "error.problem_invalid")
        named = [label(lang, "param", f) for f in fields]
        text = translate(lang, "error.400_text", field="、".join(named)[:80], problem=problem)
        return render_error(request, 400, text)
