"""Portal logins: argon2 hashes, lockout, sessions, and the demo logins `dqgov demo` prints."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from remediation.errors import InvalidInput, NotFound
from remediation.store.engines import open_store
from remediation.store.workflow_models import User
from remediation.workflow.accounts import (
    MAX_FAILURES,
    authenticate,
    create_session,
    end_session,
    ensure_demo_users,
    session_for,
    set_password,
)
from tests.dbenv import Databases
from tests.storedata import add_todos, seed_org


def test_passwords_are_hashed_and_checked(store: sa.Engine) -> None:
    set_password(store, "M101", "first-password")
    with store.connect() as conn:
        stored = conn.scalar(sa.select(User.password_hash).where(User.staff_id == "M101"))
    assert stored is not None and stored.startswith("$argon2id$") and "first-password" not in stored
    assert authenticate(store, "M101", "first-password").ok
    assert not authenticate(store, "M101", "other-password").ok
    with pytest.raises(InvalidInput):
        set_password(store, "M101", "short")
    with pytest.raises(NotFound):
        set_password(store, "NOBODY", "long-enough-password")


def test_lockout_after_repeated_failures_and_a_new_password_unlocks(store: sa.Engine) -> None:
    set_password(store, "M101", "first-password")
    results = [authenticate(store, "M101", "nope-nope").reason for _ in range(MAX_FAILURES + 2)]
    assert results == ["bad_credentials"] * (MAX_FAILURES + 2)  # a wrong password never says "locked"
    assert authenticate(store, "M101", "first-password").reason == "locked"  # only the right one does
    set_password(store, "M101", "second-password")
    assert authenticate(store, "M101", "second-password").ok


def test_a_success_resets_the_failure_count(store: sa.Engine) -> None:
    set_password(store, "M101", "first-password")
    for _ in range(MAX_FAILURES - 1):
        authenticate(store, "M101", "nope-nope")
    assert authenticate(store, "M101", "first-password").ok
    assert authenticate(store, "M101", "nope-nope").reason == "bad_credentials"


def test_sessions_expire_and_end(store: sa.Engine) -> None:
    token = create_session(store, "M101", dt.timedelta(hours=1))
    session = session_for(store, token)
    assert session is not None and session.position == "account_manager" and session.csrf_token
    assert session_for(store, token + "x") is None
    end_session(store, token)
    assert session_for(store, token) is None
    assert session_for(store, create_session(store, "M101", dt.timedelta(seconds=-1))) is None
    assert session_for(store, create_session(store, "M103", dt.timedelta(hours=1))) is None  # inactive


def test_demo_logins_cover_each_role_around_the_busiest_account_manager(store: sa.Engine) -> None:
    add_todos(
        store,
        [{"assignee": "M102", "due": dt.date(2026, 12, 1)}] * 3 + [{"assignee": "M101", "due": None}],
        dt.date(2026, 11, 20),
    )
    logins = ensure_demo_users(store, "demo-password-1")
    assert [(d.staff_id, d.position) for d in logins] == [
        ("M102", "account_manager"),
        ("S101", "sub_branch_head"),
        ("B001", "branch_head"),
        ("D001", "data_office"),
    ]
    assert all(authenticate(store, d.staff_id, "demo-password-1").ok for d in logins)


def test_the_cli_sets_a_password_and_prints_demo_logins(sqlite_databases: Databases) -> None:
    from typer.testing import CliRunner

    from remediation.cli.main import app

    url = sqlite_databases.new("store")
    seed_org(open_store(url))
    done = CliRunner().invoke(
        app, ["user", "set-password", "S101", "--store-url", url, "--password", "a-new-password"]
    )
    assert done.exit_code == 0 and "S101" in done.output
    assert authenticate(open_store(url), "S101", "a-new-password").ok
    short = CliRunner().invoke(
        app, ["user", "set-password", "S101", "--store-url", url, "--password", "short"]
    )
    assert short.exit_code != 0


def test_demo_logins_are_printed_with_their_password(
    sqlite_databases: Databases, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from remediation.cli.users import print_demo_logins

    store = open_store(sqlite_databases.new("store"))
    seed_org(store)
    monkeypatch.setenv("DQGOV_DEMO_PASSWORD", "demo-password-2")
    print_demo_logins(store)
    out = capsys.readouterr().out
    assert "demo-password-2" in out and "D001" in out and "数据管理部门" in out
    assert authenticate(store, "S101", "demo-password-2").ok
