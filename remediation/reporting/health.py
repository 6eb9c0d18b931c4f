"""Is the platform up? The probes behind the portal's `/healthz`, which load balancers call.

Each probe opens a fresh connection with short timeouts (never the app's pool: a pooled connection to a
database that was dropped or a server that stopped answering must not make the probe lie or hang) and
runs one real query: on the store a `dq_` table, on the source `SELECT 1`. An SQLite file is opened
read-only, so probing a deleted store does not create an empty one. Both probes run at once, and the
answer never takes much longer than `PROBE_SECONDS`.
"""

from __future__ import annotations

import logging
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from remediation.store.models import CheckRun

PROBE_SECONDS = 3
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    store: str  # ok | unreachable
    source: str  # ok | unreachable

    @property
    def status(self) -> str:
        """down: the store is unreachable (nothing works); degraded: only the source (checks and the record
        page's live values cannot run, everything else does); ok."""
        if self.store != "ok":
            return "down"
        return "degraded" if self.source != "ok" else "ok"

    def as_dict(self) -> dict[str, str]:
        return {"status": self.status, "store": self.store, "source": self.source}


def _probe_engine(url: sa.URL) -> sa.Engine:
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database and url.database != ":memory:":
        uri = Path(url.database).resolve().as_uri() + "?mode=ro"
        return sa.create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=PROBE_SECONDS, check_same_thread=False),
            poolclass=NullPool,
        )
    args: dict[str, object] = {}
    if backend == "postgresql":
        args = {"connect_timeout": PROBE_SECONDS, "options": f"-c statement_timeout={PROBE_SECONDS * 1000}"}
    return sa.create_engine(url, poolclass=NullPool, connect_args=args)


def _reachable(url: sa.URL | str, query: sa.Executable, what: str) -> bool:
    try:
        engine = _probe_engine(sa.make_url(url))
        try:
            with engine.connect() as conn:
                conn.execute(query).all()
        finally:
            engine.dispose()
    except Exception as exc:
        log.warning("health: %s unreachable: %s", what, str(exc).strip().splitlines()[0] if str(exc) else exc)
        return False
    return True


def _state(probe: Future[bool]) -> str:
    return "ok" if probe.done() and probe.result() else "unreachable"


def check_health(store: sa.Engine, source_url: str) -> Health:
    """Probe the store and the source at once; a probe still running after the deadline counts as down."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dqgov-health")
    try:
        store_probe = pool.submit(
            _reachable, store.url, sa.select(sa.func.max(CheckRun.id)).select_from(CheckRun), "store"
        )
        source_probe = pool.submit(_reachable, source_url, sa.select(sa.literal(1)), "source")
        wait_for([store_probe, source_probe], timeout=PROBE_SECONDS * 2)

        return Health(store=_state(store_probe), source=_state(source_probe))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
