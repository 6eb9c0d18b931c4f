"""Test databases: fresh ones per test on SQLite and on the machine's PostgreSQL (DQGOV_TEST_PG_URL).

Tests never skip PostgreSQL: CI starts the server, and a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("DQGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


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
        dispose_source_engines(
            [
                u
                for u in _SOURCE_ENGINES
                if u.startswith(f"sqlite:///{self.tmp_path}")
                or any(u.endswith("/" + name) for name in self.created)
            ]
        )
        if not self.created:
            return
        from remediation.store import engines as store

        store._upgraded.clear()
        admin = _pg_admin()
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_SOURCE_ENGINES: dict[str, sa.Engine] = {}


def source_engine(url: str) -> sa.Engine:
    """The tests' engine on a source database, one per URL (the code under test takes engines, not URLs)."""
    if url not in _SOURCE_ENGINES:
        _SOURCE_ENGINES[url] = sa.create_engine(url)
    return _SOURCE_ENGINES[url]


def dispose_source_engines(urls: list[str] | None = None) -> None:
    for url in list(_SOURCE_ENGINES) if urls is None else urls:
        engine = _SOURCE_ENGINES.pop(url, None)
        if engine is not None:
            engine.dispose()
