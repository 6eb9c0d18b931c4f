"""Logging in: hashed passwords, server-side sessions, lockout, CSRF on every form, audit entries."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi.routing import APIRoute

from remediation.store.workflow_models import AuditEntry, User, WebSession
from remediation.workflow.accounts import hash_token
from tests.portal.conftest import CSRF, PASSWORD, Portal


def audit_actions(portal: Portal, staff_id: str | None = None) -> list[str]:
    with portal.bank.store.connect() as conn:
        stmt = sa.select(AuditEntry.action).order_by(AuditEntry.id)
        if staff_id is not None:
            stmt = stmt.where(AuditEntry.staff_id == staff_id)
        return list(conn.scalars(stmt))


def test_pages_need_a_login(portal: Portal) -> None:
    client = portal.client()
    for path in ("/", "/todos", "/dashboard", "/office/runs", "/todos/1"):
        answer = client.get(path)
        assert answer.status == 303 and answer.headers["location"].startswith("/login")


def test_login_makes_a_server_side_session_with_a_hashed_token_in_a_strict_cookie(portal: Portal) -> None:
    client = portal.client()
    answer = client.login("M101")
    assert answer.status == 303 and answer.headers["location"] == "/"
    cookie_header = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=lax" in cookie_header
    session = client.cookie("dqgov_session")
    assert session is not None and session.value
    with portal.bank.store.connect() as conn:
        hashes = list(conn.scalars(sa.select(WebSession.token_hash).where(WebSession.staff_id == "M101")))
        stored = conn.scalar(sa.select(User.password_hash).where(User.staff_id == "M101"))
    assert hashes == [hash_token(session.value)]
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert client.get("/").headers["location"] == "/todos"
    assert client.post("/logout").status == 303
    assert client.get("/todos").status == 303  # the session is gone from the store
    assert audit_actions(portal, "M101")[-2:] == ["login", "logout"]


def test_wrong_password_is_refused_and_five_in_a_row_lock_the_login(portal: Portal) -> None:
    client = portal.client()
    answer = client.login("M101", "wrong-password")
    assert answer.status == 401 and "工号或密码不正确" in answer.text
    for _ in range(4):
        answer = client.login("M101", "wrong-password")
    assert answer.status == 401 and "工号或密码不正确" in answer.text and "已锁定" not in answer.text
    answer = client.login("M101", PASSWORD)  # locked: even the right password is refused, and says why
    assert answer.status == 401 and "已锁定" in answer.text
    assert "locked" in audit_actions(portal, "M101") and "login_locked" in audit_actions(portal, "M101")
    with portal.bank.store.begin() as conn:  # as if the 15 minutes were over
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        conn.execute(sa.update(User).where(User.staff_id == "M101").values(locked_until=past))
    assert client.login("M101", PASSWORD).status == 303


def test_unknown_and_inactive_staff_cannot_log_in(portal: Portal) -> None:
    from remediation.workflow.accounts import set_password

    set_password(portal.bank.store, "M103", PASSWORD)  # 赵离职: no longer active
    assert portal.client().login("M103").status == 401
    assert portal.client().login("X999").status == 401


def _answer(portal: Portal, staff_id: str, password: str) -> tuple[int, str]:
    """The login answer as an attacker compares it: status and body, the random CSRF token blanked."""
    answer = portal.client().login(staff_id, password)
    return answer.status, CSRF.sub('name="csrf_token" value=""', answer.text)


def test_a_wrong_password_answers_alike_whether_the_login_exists_is_locked_or_inactive(
    portal: Portal,
) -> None:
    from remediation.workflow.accounts import MAX_FAILURES, set_password

    set_password(portal.bank.store, "M103", PASSWORD)  # 赵离职: no longer active
    unknown = [_answer(portal, "X999", "wrong-password") for _ in range(MAX_FAILURES + 2)]
    existing = [_answer(portal, "M101", "wrong-password") for _ in range(MAX_FAILURES + 2)]
    inactive = [_answer(portal, "M103", "wrong-password") for _ in range(2)]
    assert len({*unknown, *existing, *inactive}) == 1  # one answer, whoever is tried, however often
    status, text = unknown[0]
    assert status == 401 and "工号或密码不正确" in text and "已锁定" not in text
    assert "locked" in audit_actions(portal, "M101")  # the failures still counted: M101 is locked
    status, text = _answer(portal, "M101", PASSWORD)  # only the right password learns of the lock
    assert status == 401 and "已锁定" in text
    status, text = _answer(portal, "M103", PASSWORD)  # and only the right password learns "no longer active"
    assert status == 401 and "不在岗" in text
    with portal.bank.store.begin() as conn:  # as if the 15 minutes were over
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        conn.execute(sa.update(User).where(User.staff_id == "M101").values(locked_until=past))
    assert portal.client().login("M101").status == 303


def test_every_post_without_the_csrf_token_is_refused(portal: Portal) -> None:
    client = portal.client()
    client.login("D001")
    posts = [r.path for r in portal.app.routes if isinstance(r, APIRoute) and "POST" in r.methods]
    assert len(posts) >= 9
    for path in posts:
        concrete = path.replace("{todo_id}", "1").replace("{appeal_id}", "1").replace("{run_id}", "1")
        assert client.post(concrete, {"note": "x"}, csrf=False).status == 403, path
        assert client.post(concrete, {"csrf_token": "forged"}, csrf=False).status == 403, path


def test_the_login_form_needs_its_own_csrf_token(portal: Portal) -> None:
    client = portal.client()
    answer = client.request("POST", "/login", {"staff_id": "M101", "password": PASSWORD})
    assert answer.status == 403


def test_login_redirects_only_within_the_site(portal: Portal) -> None:
    client = portal.client()
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text
    page = client.get("/login?next=/todos%3Fstatus%3Dall")
    assert 'name="next" value="/todos?status=all"' in page.text
