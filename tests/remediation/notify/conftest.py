"""The notification tests' fixtures: a store, one with 500 to-dos for 20 people, and real SMTP and WeCom
servers (the application-message API and a group bot)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.notify.wecom_app import forget_tokens
from remediation.store.engines import open_store
from tests.remediation.notify.helpers import DAY
from tests.servers import SmtpSink, WecomApi, WecomSink
from tests.storedata import add_todos, managers, seed_org


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def wecom() -> Iterator[WecomApi]:
    """WeCom's application-message API (the digests' channel)."""
    forget_tokens()
    api = WecomApi()
    api.start()
    yield api
    api.stop()
    forget_tokens()


@pytest.fixture
def wecom_bot() -> Iterator[WecomSink]:
    """A WeCom group bot (the data office's alerts)."""
    sink = WecomSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def store(databases: Any) -> sa.Engine:
    return open_store(databases.new("store"))


@pytest.fixture
def bank500(store: sa.Engine) -> sa.Engine:
    """20 account managers with 25 open to-dos each: 3 overdue (yellow), 3 due soon, 19 due later."""
    people = managers(20)
    seed_org(store, people)
    due = {0: DAY - dt.timedelta(days=2), 1: DAY + dt.timedelta(days=3)}  # Wed 18 / Mon 23 November
    add_todos(
        store,
        [
            {
                "assignee": people[n % 20]["staff_id"],
                "inst": people[n % 20]["inst_code"],
                "due": due.get((n // 20) % 10, dt.date(2026, 12, 10)),
                "rule": ("MER-B2-LEGAL-REP-ID", "MER-C1-PHONE-FORMAT")[n % 3 == 0],
            }
            for n in range(500)
        ],
        DAY - dt.timedelta(days=10),
    )
    return store
