"""Fresh source and store databases for a benchmark run, on SQLite files or the local PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
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
