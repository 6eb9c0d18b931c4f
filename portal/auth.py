"""Sessions and CSRF for the portal: the cookie, who is logged in, and the check on every POST.

- The session cookie (`dqgov_session`) carries a random token; the store keeps its hash
  (remediation/workflow/accounts.py). It is HttpOnly and SameSite=Lax, and Secure when DQGOV_COOKIE_SECURE is true.
- Every POST carries a CSRF token in the form field `csrf_token`: the session's own token, or, on the
  login form (no session yet), the value of a `dqgov_login_csrf` cookie (double submit). A POST
  without the right token is refused with 403 before the route runs.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from portal.deps import Forbidden, PortalConfig, config
from portal.scoping import Viewer, make_viewer
from remediation.workflow.accounts import session_for

SESSION_COOKIE = "dqgov_session"
LOGIN_CSRF_COOKIE = "dqgov_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def set_session_cookie(response: Response, cfg: PortalConfig, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(cfg.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=cfg.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def login_csrf(request: Request) -> str:
    """The login form's token: the cookie's, or a new one (the caller sets the cookie)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf_cookie(response: Response, cfg: PortalConfig, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=cfg.secure_cookies)


def current_viewer(request: Request) -> Viewer | None:
    """The logged-in person, looked up once per request; None without a live session."""
    if hasattr(request.state, "viewer"):
        viewer: Viewer | None = request.state.viewer
        return viewer
    cfg = config(request)
    info = session_for(cfg.store, request.cookies.get(SESSION_COOKIE, ""))
    found = None
    if info is not None:
        request.state.unread = info.unread  # the page frame's count, read with the session
        tree = cfg.tree()
        found = make_viewer(
            info.staff_id, info.staff_name, info.position, info.inst_code, info.csrf_token, tree
        )
    request.state.viewer = found
    return found


def _same(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))


async def csrf_protect(request: Request) -> None:
    """Refuse any POST whose CSRF token is missing or wrong (403); other methods pass."""
    if request.method != "POST":
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if request.url.path == "/login":
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        viewer = await run_in_threadpool(current_viewer, request)
        expected = viewer.csrf_token if viewer is not None else None
    if not _same(given, expected):
        raise Forbidden("csrf")
