"""What the reporting pages computed, kept in the process until the data under it changes.

The dashboard and the summary table read small summaries (the tally, the snapshot totals), but turning
them into a page (4,540 people ranked, 500 institutions scored) costs tens of milliseconds of Python, and
twenty heads asking for the same whole-bank page do the same work twenty times. `ReportCache.get` keeps
each result under the store's *generation*, a counter that moves whenever a table the pages read changes:

- in this process, at the commit of a connection that wrote one of `WATCHED` (an SQLAlchemy event on
  every engine, so a check run or an action in the same process is seen before its next page);
- in any other process (a check DAG, another portal worker), by PostgreSQL's NOTIFY: statement
  triggers on `WATCHED` (migration 0015) notify `CHANNEL` at commit, and a listening thread moves the
  generation when the notice arrives, milliseconds after the commit.

A result is reused only while the generation it was computed under is current, and never longer than
`DQGOV_REPORT_CACHE_SECONDS` (a backstop: the listener reconnects and moves the generation itself after
losing its connection). Nothing is cached on SQLite (no NOTIFY; the embedded tier is small) or while the
listener is not listening: the pages are then computed every time, as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event

from remediation import settings

T = TypeVar("T")
CHANNEL = "dqgov_reporting"
# every table a reporting page reads (dq_todo's triggers keep dq_todo_tally and dq_todo_due)
WATCHED = (
    "dq_todo",
    "dq_institution",
    "dq_staff",
    "dq_rule",
    "dq_campaign",
    "dq_snapshot",
    "dq_snapshot_total",
    "dq_snapshot_records",
)
ENTRIES = 256  # results kept per store, least recently used dropped first
RETRY_SECONDS = 5.0  # after a lost listener, pages go uncached this long before the next try
WRITES = ("insert", "update", "delete", "truncate", "copy")


def _database(url: sa.URL) -> tuple[str | None, int | None, str | None]:
    return (url.host, url.port, url.database)


_local: dict[tuple[str | None, int | None, str | None], int] = {}  # commits in this process, per database
_lock = threading.Lock()


def _wrote_watched(statement: str) -> bool:
    head = statement.lstrip()[:8].lower()
    if not head.startswith(WRITES):
        return False
    lowered = statement.lower()
    return any(name in lowered for name in WATCHED)


@event.listens_for(sa.Engine, "after_cursor_execute")
def _note_write(conn: sa.Connection, cursor: Any, statement: str, *args: Any) -> None:
    if _wrote_watched(statement):
        conn.info["dqgov_wrote_watched"] = True


@event.listens_for(sa.Engine, "commit")
def _count_commit(conn: sa.Connection) -> None:
    if conn.info.pop("dqgov_wrote_watched", False):
        key = _database(conn.engine.url)
        with _lock:
            _local[key] = _local.get(key, 0) + 1


@event.listens_for(sa.Engine, "rollback")
def _forget_write(conn: sa.Connection) -> None:
    conn.info.pop("dqgov_wrote_watched", None)


class ReportCache:
    """Results of one store's reporting reads, valid while its generation stands (see the module)."""

    def __init__(self, store: sa.Engine) -> None:
        self.store = store
        self._key = _database(store.url)
        self._remote = 0  # notices received, and reconnections
        self._listening = False
        self._entries: OrderedDict[Hashable, tuple[tuple[int, int], float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._retry_at = 0.0
        self.hits = self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.store.dialect.name == "postgresql" and self._seconds() > 0

    def _seconds(self) -> float:
        return settings.number_of("DQGOV_REPORT_CACHE_SECONDS")

    def generation(self) -> tuple[int, int] | None:
        """The store's generation, or None when changes from other processes cannot be seen (no caching)."""
        if not self.enabled:
            return None
        self._start()
        if not self._listening:
            return None
        return (_local.get(self._key, 0), self._remote)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result cached under `key` for the current generation, or `compute()`'s, kept for the next."""
        generation = self.generation()  # read before computing: a change meanwhile makes the result stale
        if generation is None:
            return compute()
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == generation and now - found[1] < self._seconds():
                self._entries.move_to_end(key)
                self.hits += 1
                return found[2]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self.misses += 1
            self._entries[key] = (generation, now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > ENTRIES:
                self._entries.popitem(last=False)
        return value

    def _start(self) -> None:
        """Start listening unless a listener runs, or the last one failed a moment ago."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if alive or self._stop.is_set() or time.monotonic() < self._retry_at:
                return
            self._retry_at = time.monotonic() + RETRY_SECONDS
            self._thread = threading.Thread(target=self._listen, name="dqgov-report-cache", daemon=True)
            self._thread.start()
        deadline = time.monotonic() + 2  # the first page waits briefly for LISTEN, then goes uncached
        while not self._listening and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.01)

    def _listen(self) -> None:
        """LISTEN on a connection of its own until told to stop or the connection is lost (a dropped
        database, a restart): the thread then ends, and the next page starts another one."""
        import psycopg

        args, kwargs = self.store.dialect.create_connect_args(self.store.url)
        try:
            with psycopg.connect(*args, **{**kwargs, "autocommit": True}) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                self._remote += 1  # whatever changed while nobody listened
                self._listening = True
                while not self._stop.is_set():
                    for _ in conn.notifies(timeout=1.0):
                        self._remote += 1
        except Exception:
            pass
        finally:
            self._listening = False

    def close(self) -> None:
        """Stop listening (the portal's shutdown); the pages are computed every time from then on."""
        self._stop.set()
        self._listening = False
        if self._thread is not None:
            self._thread.join(timeout=3)
