"""Portal logins (dq_user) and server-side sessions (dq_session).

- Passwords are stored as argon2id hashes only. A login is a member of staff (dq_staff) by employee
  number; someone no longer active cannot log in, whatever their password.
- After `MAX_FAILURES` wrong passwords in a row the login is locked for `LOCKOUT`; while locked, even the
  right password is refused. A wrong password gets the same answer whether the login exists or not, is
  locked or not: only the right password learns of a lock. Every outcome is written to the audit log.
- A session is a random token: the cookie carries it, the store only its SHA-256. Each session has its own
  CSRF token, which every form posts back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from remediation.clock import as_utc, now
from remediation.errors import InvalidInput, NotFound
from remediation.notify.inbox import unread_of
from remediation.store.models import ACTIVE_STATUSES, Institution, Staff, Todo
from remediation.store.workflow_models import User, WebSession
from remediation.workflow.audit import audit

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD = 8
DEMO_POSITIONS = ("account_manager", "sub_branch_head", "branch_head", "data_office")

_hasher = PasswordHasher()
# verified against when the login does not exist, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(store: sa.Engine, staff_id: str, password: str, *, client: str | None = None) -> None:
    """Create the login of a member of staff, or give it a new password (which also unlocks it).

    Audited as `password_set` of that person, with `client` saying where it was done (`cli:user@host`).
    """
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD} characters", code="password_too_short", n=MIN_PASSWORD
        )
    hashed = _hasher.hash(password)
    with store.begin() as conn:
        if conn.scalar(sa.select(Staff.staff_id).where(Staff.staff_id == staff_id)) is None:
            raise NotFound(
                f"there is no member of staff {staff_id!r} (sync the org from the source first)",
                code="staff_not_found",
                staff=staff_id,
            )
        values = {
            "password_hash": hashed,
            "failed_attempts": 0,
            "locked_until": None,
            "password_changed_at": now(),
        }
        if conn.execute(sa.update(User).where(User.staff_id == staff_id).values(**values)).rowcount == 0:
            conn.execute(sa.insert(User).values(staff_id=staff_id, **values))
        conn.execute(sa.delete(WebSession).where(WebSession.staff_id == staff_id))
    audit(store, staff_id, "password_set", detail="password set; sessions ended", client=client)


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    staff_id: str | None
    reason: str = ""  # bad_credentials | locked | inactive


def authenticate(store: sa.Engine, staff_id: str, password: str, client: str | None = None) -> LoginResult:
    """Check a password, counting failures and locking the login after `MAX_FAILURES` in a row.

    A wrong password answers `bad_credentials` whether the login exists, is locked or inactive, and an
    unknown login costs the same argon2 verification: only someone who typed the right password learns
    that the login is locked (`locked`) or its person no longer active (`inactive`).
    """
    staff_id = staff_id.strip()
    at = now()
    with store.connect() as conn:
        row = conn.execute(
            sa.select(User.password_hash, User.locked_until, Staff.active)
            .join(Staff, Staff.staff_id == User.staff_id)
            .where(User.staff_id == staff_id)
        ).first()
    if row is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        audit(store, None, "login_failed", detail=f"unknown login {staff_id[:20]!r}", client=client)
        return LoginResult(False, None, "bad_credentials")
    locked_until = as_utc(row.locked_until) if row.locked_until is not None else None
    locked = locked_until is not None and locked_until > at
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        if locked:
            audit(store, staff_id, "login_failed", detail="wrong password while locked", client=client)
            return LoginResult(False, staff_id, "bad_credentials")
        return _failed(store, staff_id, at, client)
    if not row.active:
        audit(store, staff_id, "login_failed", detail="no longer active", client=client)
        return LoginResult(False, staff_id, "inactive")
    if locked:
        assert locked_until is not None
        audit(
            store,
            staff_id,
            "login_locked",
            detail=f"locked until {locked_until:%Y-%m-%d %H:%M} UTC",
            client=client,
        )
        return LoginResult(False, staff_id, "locked")
    values: dict[str, object] = {"failed_attempts": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = _hasher.hash(password)
    with store.begin() as conn:
        conn.execute(sa.update(User).where(User.staff_id == staff_id).values(**values))
    audit(store, staff_id, "login", client=client)
    return LoginResult(True, staff_id)


def _failed(store: sa.Engine, staff_id: str, now: dt.datetime, client: str | None) -> LoginResult:
    """Count a wrong password; the fifth in a row locks the login. The answer is `bad_credentials` either way."""
    with store.begin() as conn:
        failures = conn.execute(
            sa.update(User)
            .where(User.staff_id == staff_id)
            .values(failed_attempts=User.failed_attempts + 1)
            .returning(User.failed_attempts)
        ).scalar_one()
        locked = failures >= MAX_FAILURES
        if locked:
            conn.execute(
                sa.update(User)
                .where(User.staff_id == staff_id)
                .values(failed_attempts=0, locked_until=now + LOCKOUT)
            )
    audit(store, staff_id, "login_failed", detail=f"wrong password ({failures} in a row)", client=client)
    if locked:
        audit(
            store,
            staff_id,
            "locked",
            detail=f"{MAX_FAILURES} wrong passwords: locked for {LOCKOUT}",
            client=client,
        )
    return LoginResult(False, staff_id, "bad_credentials")


@dataclass(frozen=True)
class SessionInfo:
    staff_id: str
    staff_name: str
    position: str
    inst_code: str
    csrf_token: str
    expires_at: dt.datetime
    unread: int  # the person's unread inbox messages as the session was looked up


def create_session(store: sa.Engine, staff_id: str, lifetime: dt.timedelta) -> str:
    """A new session for a logged-in person; returns the token for the cookie (the store keeps its hash)."""
    token = secrets.token_urlsafe(32)
    at = now()
    with store.begin() as conn:
        conn.execute(sa.delete(WebSession).where(WebSession.expires_at < at))
        conn.execute(
            sa.insert(WebSession).values(
                token_hash=hash_token(token),
                staff_id=staff_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=at,
                expires_at=at + lifetime,
            )
        )
    return token


def session_for(store: sa.Engine, token: str) -> SessionInfo | None:
    """The live session of this token, or None (unknown, expired, or its person is no longer active); with
    the person's unread messages, read in the same statement (the page frame shows them: one round trip to
    the store for both on every page)."""
    if not token:
        return None
    with store.connect() as conn:
        row = conn.execute(
            sa.select(
                WebSession.staff_id,
                Staff.staff_name,
                Staff.position,
                Staff.inst_code,
                Staff.active,
                WebSession.csrf_token,
                WebSession.expires_at,
                unread_of(WebSession.staff_id).label("unread"),
            )
            .join(Staff, Staff.staff_id == WebSession.staff_id)
            .where(WebSession.token_hash == hash_token(token))
        ).first()
    if row is None or not row.active:
        return None
    expires = as_utc(row.expires_at) if row.expires_at is not None else None
    assert expires is not None
    if expires <= now():
        return None
    return SessionInfo(
        row.staff_id, row.staff_name, row.position, row.inst_code, row.csrf_token, expires, int(row.unread)
    )


def end_session(store: sa.Engine, token: str) -> None:
    with store.begin() as conn:
        conn.execute(sa.delete(WebSession).where(WebSession.token_hash == hash_token(token)))


@dataclass(frozen=True)
class DemoLogin:
    staff_id: str
    staff_name: str
    position: str
    inst_code: str
    inst_name: str


def ensure_demo_users(store: sa.Engine, password: str, *, client: str | None = None) -> list[DemoLogin]:
    """Logins for one account manager (the one with the most open to-dos), the heads above them, and the
    data office; each gets `password`. Positions nobody holds are left out."""
    with store.connect() as conn:
        people = conn.execute(
            sa.select(Staff.staff_id, Staff.staff_name, Staff.position, Staff.inst_code)
            .where(Staff.active.is_(True))
            .order_by(Staff.staff_id)
        ).all()
        open_todos = dict(
            conn.execute(
                sa.select(Todo.assignee_staff_id, sa.func.count())
                .where(Todo.status.in_(ACTIVE_STATUSES))
                .group_by(Todo.assignee_staff_id)
            )
            .tuples()
            .all()
        )
        insts = {i.inst_code: i for i in conn.execute(sa.select(Institution)).all()}
    chosen: dict[str, Any] = {}
    managers = [p for p in people if p.position == "account_manager"]
    if managers:
        chosen["account_manager"] = max(managers, key=lambda p: open_todos.get(p.staff_id, 0))
    chain: list[str] = []
    node = getattr(chosen.get("account_manager"), "inst_code", None)
    while node is not None and node in insts and node not in chain:
        chain.append(node)
        node = insts[node].parent_code
    for position in ("sub_branch_head", "branch_head", "data_office"):
        holders = [p for p in people if p.position == position]
        near = [p for p in holders if p.inst_code in chain]
        if holders:
            chosen[position] = (near or holders)[0]
    logins: list[DemoLogin] = []
    for position in DEMO_POSITIONS:
        person = chosen.get(position)
        if person is None:
            continue
        set_password(store, person.staff_id, password, client=client)
        inst = insts.get(person.inst_code)
        logins.append(
            DemoLogin(
                person.staff_id,
                person.staff_name,
                position,
                person.inst_code,
                inst.inst_name if inst else "",
            )
        )
    return logins
