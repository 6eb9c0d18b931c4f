"""Logging in and out, and the start page that sends each role to its main page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal.auth import (
    SESSION_COOKIE,
    clear_session_cookie,
    client_of,
    current_viewer,
    login_csrf,
    set_login_csrf_cookie,
    set_session_cookie,
)
from portal.deps import config, render
from remediation.workflow.accounts import authenticate, create_session, end_session
from remediation.workflow.audit import audit

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no `//host`): the login never redirects elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/")
def start(request: Request) -> Response:
    person = current_viewer(request)
    if person is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/todos" if person.is_manager else "/dashboard", status_code=303)


def _login_page(request: Request, next_url: str, error: str | None, status_code: int = 200) -> Response:
    token = login_csrf(request)
    response = render(
        request,
        "login.html",
        {"login_csrf": token, "next": next_url, "error": error},
        status_code=status_code,
    )
    set_login_csrf_cookie(response, config(request), token)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next), None)


@router.post("/login")
def login(
    request: Request,
    staff_id: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    cfg = config(request)
    result = authenticate(cfg.store, staff_id, password, client_of(request))
    if not result.ok or result.staff_id is None:
        return _login_page(request, _safe_next(next), f"login.{result.reason}", status_code=401)
    token = create_session(cfg.store, result.staff_id, cfg.session_lifetime)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, cfg, token)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    cfg = config(request)
    person = current_viewer(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(cfg.store, token)
    if person is not None:
        audit(cfg.store, person.staff_id, "logout", client=client_of(request))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response
