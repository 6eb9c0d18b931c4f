"""A small checked bank with portal logins, served by a real uvicorn server, and an HTTP client with cookies.

Building a bank runs the suites through the pipeline (GX included), which takes seconds; the SQLite
bank is built once per session and copied for each test, so every test starts from the same state.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from expectations.rulebook import load_suites
from portal.app import create_app
from remediation.checks.pipeline import run_suite
from remediation.orchestration.runnow import Trigger
from remediation.store.engines import open_store
from remediation.workflow.accounts import set_password
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row
from tests.servers import free_port

PASSWORD = "correct-horse-42"
LOGINS = ("M101", "M102", "M201", "S101", "B001", "D001")
BAD_PHONE = "12345678901"
BAD_ID = "360402198506121230"  # the check character should be 7


def key(seq: int) -> str:
    return str(merchant_row(seq)["mer_id"])


def bank_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Merchants of 张经理 (M101, 110100): 1 bad phone, 2 bad ID, 3 valid, 6 expired licence, 7 bad phone;
    4 bad phone of 王经理 (M102, 110100); 5 bad phone of 吴经理 (M201, 110200); one customer of M201."""
    merchants = [
        merchant_row(1, contact_phone=BAD_PHONE),
        merchant_row(2, legal_rep_id_no=BAD_ID),
        merchant_row(3),
        merchant_row(4, mgr_staff_id="M102", contact_phone=BAD_PHONE),
        merchant_row(5, inst_code="110200", mgr_staff_id="M201", contact_phone=BAD_PHONE),
        merchant_row(6, licence_end=dt.date(2026, 1, 1)),
        merchant_row(7, contact_phone=BAD_PHONE),
    ]
    return merchants, [customer_row(1, contact_phone="0792-123")]


def build_bank(source_url: str, store_url: str) -> sa.Engine:
    merchants, customers = bank_records()
    build_source(source_url, merchants, customers).dispose()
    store = open_store(store_url)
    for suite in load_suites():
        run_suite(source_engine(source_url), store, suite, CHECK_DATE)
    for staff_id in LOGINS:
        set_password(store, staff_id, PASSWORD)
    return store


@dataclass
class Bank:
    source_url: str
    store: sa.Engine
    folder: Path

    def todo_id(self, seq: int, rule_id: str, table: str = "merchant") -> int:
        from remediation.store.models import Todo

        record = key(seq) if table == "merchant" else str(customer_row(seq)["cust_no"])
        with self.store.connect() as conn:
            return int(
                conn.execute(
                    sa.select(Todo.id).where(Todo.record_key == record, Todo.rule_id == rule_id)
                ).scalar_one()
            )

    def todo_status(self, todo_id: int) -> str:
        from remediation.store.models import Todo

        with self.store.connect() as conn:
            return str(conn.execute(sa.select(Todo.status).where(Todo.id == todo_id)).scalar_one())

    def source_value(self, seq: int, column: str) -> Any:
        engine = sa.create_engine(self.source_url)
        try:
            with engine.connect() as conn:
                return conn.execute(
                    sa.text(f"SELECT {column} FROM merchant WHERE mer_id = :k"), {"k": key(seq)}
                ).scalar_one()
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def bank_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bank-template")
    store = build_bank(f"sqlite:///{folder / 'source.sqlite'}", f"sqlite:///{folder / 'store.sqlite'}")
    with store.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return folder


@pytest.fixture
def bank(bank_template: Path, tmp_path: Path) -> Bank:
    """A fresh copy of the SQLite bank."""
    folder = tmp_path / "bank"
    shutil.copytree(bank_template, folder, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    return Bank(
        f"sqlite:///{folder / 'source.sqlite'}", open_store(f"sqlite:///{folder / 'store.sqlite'}"), folder
    )


def pg_bank(databases: Databases, tmp_path: Path) -> Bank:
    source_url = databases.new("source")
    return Bank(source_url, build_bank(source_url, databases.new("store")), tmp_path)


@pytest.fixture
def any_bank(databases: Databases, bank: Bank, tmp_path: Path) -> Bank:
    """The checked bank on each backend: a copy of the SQLite one, or a fresh PostgreSQL one."""
    return bank if databases.backend == "sqlite" else pg_bank(databases, tmp_path)


@dataclass
class FakeRunner:
    """Stands in for Airflow in "run now": records which DAGs ran for which date."""

    calls: list[tuple[str, dt.date]] = field(default_factory=list)

    def __call__(self, dag_id: str, day: dt.date) -> None:
        self.calls.append((dag_id, day))


def make_app(bank: Bank, **kwargs: Any) -> FastAPI:
    kwargs.setdefault("today", lambda: CHECK_DATE)
    kwargs.setdefault("datadocs_root", bank.folder / "datadocs")
    kwargs.setdefault("trigger", Trigger(FakeRunner()))
    kwargs.setdefault("calendar_file", bank.folder / "bank_calendar.yml")  # each test its own calendar
    return create_app(bank.store, bank.source_url, **kwargs)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app on a real uvicorn server in a thread, on a free port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Portal:
    url: str
    bank: Bank
    app: FastAPI

    def client(self) -> Client:
        return Client(self.url)


@pytest.fixture
def portal(bank: Bank) -> Iterator[Portal]:
    app = make_app(bank)
    with serve(app) as url:
        yield Portal(url, bank, app)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Response:
    status: int
    text: str
    headers: dict[str, str]
    body: bytes = b""


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """A browser stand-in: keeps cookies, does not follow redirects, reads the CSRF token from pages."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.csrf = ""

    def request(self, method: str, path: str, data: dict[str, Any] | None = None) -> Response:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode() if method == "POST" else None
        req = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with self.opener.open(req, timeout=60) as answer:
                raw = answer.read()
                status, headers = answer.status, dict(answer.headers.items())
        except urllib.error.HTTPError as exc:
            raw, status, headers = exc.read(), exc.code, dict(exc.headers.items())
        text = raw.decode("utf-8", errors="replace")
        found = CSRF.search(text)
        if found and "/login" not in path:
            self.csrf = found.group(1)
        return Response(status, text, headers, raw)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True) -> Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        return self.request("POST", path, form)

    def login(self, staff_id: str, password: str = PASSWORD) -> Response:
        page = self.get("/login")
        token = CSRF.search(page.text)
        assert token is not None
        answer = self.request(
            "POST",
            "/login",
            {"staff_id": staff_id, "password": password, "csrf_token": token.group(1), "next": "/"},
        )
        if answer.status == 303:
            self.get("/todos")  # picks up the session's CSRF token
        return answer

    def cookie(self, name: str) -> http.cookiejar.Cookie | None:
        return next((c for c in self.jar if c.name == name), None)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)
