"""Databases for benchmark runs: fresh source and store databases on SQLite files or the local PostgreSQL, a
named database created when missing, and the PostgreSQL settings every figure is recorded with."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN = os.environ.get("DQGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def fresh_urls(backend: str, folder: Path) -> tuple[str, str, Callable[[], None]]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'source.sqlite'}", f"sqlite:///{folder / 'store.sqlite'}", lambda: None
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    names = [f"dqgov_bench_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("source", "store")]
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    base = sa.make_url(PG_ADMIN)
    src, store = (base.set(database=n).render_as_string(hide_password=False) for n in names)
    return src, store, drop


SHOWN = ("server_version", "jit", "max_parallel_workers_per_gather", "shared_buffers", "work_mem")


def create_database(url: sa.URL) -> None:
    """Create the PostgreSQL database of `url` unless it exists."""
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def pg_settings(url: str, tables: Sequence[str] = ()) -> str:
    """The server's settings a figure depends on, and when each of `tables` (default: every table) was last
    ANALYZEd."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        shown = {name: conn.scalar(sa.text(f"SHOW {name}")) for name in SHOWN}
        analyzed = conn.execute(
            sa.text("SELECT relname, greatest(last_analyze, last_autoanalyze) FROM pg_stat_user_tables")
        ).all()
    engine.dispose()
    when = ", ".join(f"{t} {a or 'never'}" for t, a in sorted(analyzed) if not tables or t in tables)
    version = shown.pop("server_version")
    return f"PostgreSQL {version}, " + ", ".join(f"{k}={v}" for k, v in shown.items()) + f"; ANALYZE: {when}"
