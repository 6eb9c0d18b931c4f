"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, and tiny source banks.

PostgreSQL is the machine's server (DQGOV_TEST_PG_URL, default postgres@127.0.0.1:5432 with trust auth);
each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from dbenv import PG_ADMIN_URL

os.environ["GX_ANALYTICS_ENABLED"] = "false"

BACKENDS = ["sqlite", "postgresql"]


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


class Databases:
    """Makes fresh, empty databases on one backend and drops them at the end of the test."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.created: list[str] = []

    def new(self, label: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_path / (label + '.sqlite')}"
        name = f"dqgov_t_{label}_{uuid.uuid4().hex[:10]}"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        from remediation import store

        store._upgraded.clear()
        admin = _pg_admin()
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    dbs = Databases(request.param, tmp_path)
    yield dbs
    dbs.drop_all()


@pytest.fixture
def sqlite_databases(tmp_path: Path) -> Iterator[Databases]:
    yield Databases("sqlite", tmp_path)
