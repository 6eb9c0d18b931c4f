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
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    app.add_middleware(Frame)


class Frame:
    """What every answer gets around the route: the viewer's language (a bad `?lang=` is a 422 page), the
    security headers, `Server-Timing`, and, when the route fails unexpectedly, a 500 page in the viewer's
    language (the trace is logged, never shown).

    A plain ASGI middleware: it changes the headers as the route's answer starts and passes the body on as it
    comes. Starlette's `@app.middleware("http")` did the same through a task and a stream per request, which
    cost a sixth of the portal's throughput when twenty people asked for pages back to back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope, receive)
        asked = request.query_params.get("lang")
        lang = resolve_lang(asked, request.cookies.get(LANG_COOKIE))
        chosen = lang if asked is not None else None  # a language chosen by `?lang=` is remembered
        answering = False  # the answer's start has been sent: nothing else can be

        async def framed(message: Message) -> None:
            nonlocal answering
            if message["type"] == "http.response.start":
                answering = True
                _frame_headers(MutableHeaders(scope=message), scope["path"], chosen, started)
            await send(message)

        if lang is None:
            cookie = request.cookies.get(LANG_COOKIE)
            request.state.lang = cookie if cookie in LANGS else DEFAULT_LANG
            await render_error(request, 422, translate(request.state.lang, "error.lang"))(
                scope, receive, framed
            )
            return
        request.state.lang = lang
        try:
            await self.app(scope, receive, framed)
        except Exception:
            if answering:
                raise
            logging.getLogger("portal").exception(
                "unhandled error on %s %s", request.method, request.url.path
            )
            await render_error(request, 500)(scope, receive, framed)


def _frame_headers(headers: MutableHeaders, path: str, chosen_lang: str | None, started: float) -> None:
    """The frame's headers on an answer to `path`, with the language cookie when `?lang=` chose one."""
    if chosen_lang is not None:
        cookie = Response()
        cookie.set_cookie(LANG_COOKIE, chosen_lang, max_age=365 * 86400, samesite="lax", httponly=True)
        headers.append("set-cookie", cookie.headers["set-cookie"])
    docs = "/docs/" in path and path.startswith("/office/runs/")
    headers["Content-Security-Policy"] = DOCS_CSP if docs else CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"


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
