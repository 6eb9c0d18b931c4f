"""What the reporting pages computed, kept in the process until the data under it changes.

The dashboard and the summary table read small summaries (the tally, the snapshot totals), but turning
them into a page (4,540 people ranked, 500 institutions scored) costs tens of milliseconds of Python, and
twenty heads asking for the same whole-bank page do the same work twenty times. `ReportCache.get` keeps
each result with the *generation* of the tables it read: counters, per table, that move whenever the
table changes:

- in this process, at the commit of a connection that wrote the table (an SQLAlchemy event on every
  engine, so a check run or an action in the same process is seen by the very next page);
- in any other process (a check DAG, another portal worker), by PostgreSQL's NOTIFY: statement triggers
  on `WATCHED` (migration 0015) notify `CHANNEL` with the table's name at commit, and a listening thread
  moves that table's counter when the notice arrives, milliseconds after the commit.

So a fixed to-do makes the dashboards compute again, but not a stored day's summary table, which reads
only the snapshots, the rules, the institutions and the campaigns. A result is reused only while its
tables' generation is current, and never longer than `DQGOV_REPORT_CACHE_SECONDS` (a backstop). Nothing is
cached on SQLite (no NOTIFY; the embedded tier is small), nor while the listener is not listening: a lost
connection ends the listener, pages are computed every time until the next one listens, and its
connecting counts as a change of every table.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
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
WRITES = ("insert", "update", "delete", "truncate", "copy", "merge")


Database = tuple[str | None, int | None, str | None]  # host, port, database name


def _database(url: sa.URL) -> Database:
    return (url.host, url.port, url.database)


_local: dict[tuple[Database, str], int] = {}  # commits in this process, per database and table
_lock = threading.Lock()
_NAMES = re.compile(r"\b(" + "|".join(WATCHED) + r")\b")


def written_tables(statement: str) -> set[str]:
    """The watched tables a statement may write (an INSERT … SELECT naming one it reads counts too)."""
    if not statement.lstrip()[:8].lower().startswith(WRITES):
        return set()
    return set(_NAMES.findall(statement.lower()))


@event.listens_for(sa.Engine, "after_cursor_execute")
def _note_write(conn: sa.Connection, cursor: Any, statement: str, *args: Any) -> None:
    tables = written_tables(statement)
    if tables:
        conn.info.setdefault("dqgov_written", set()).update(tables)


@event.listens_for(sa.Engine, "commit")
def _count_commit(conn: sa.Connection) -> None:
    tables = conn.info.pop("dqgov_written", None)
    if tables:
        database = _database(conn.engine.url)
        with _lock:
            for table in tables:
                _local[(database, table)] = _local.get((database, table), 0) + 1


@event.listens_for(sa.Engine, "rollback")
def _forget_write(conn: sa.Connection) -> None:
    conn.info.pop("dqgov_written", None)


Generation = tuple[int, ...]


class ReportCache:
    """Results of one store's reporting reads, each valid while the tables it read stand (see the module)."""

    def __init__(self, store: sa.Engine) -> None:
        self.store = store
        self._database = _database(store.url)
        self._remote: dict[str, int] = {}  # notices received per table
        self._connections = 0  # listening connections made: whatever changed while nobody listened
        self._listening = False
        self._entries: OrderedDict[Hashable, tuple[Generation, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._retry_at = 0.0
        self.hits = self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.store.dialect.name == "postgresql" and self._seconds() > 0

    def _seconds(self) -> float:
        return settings.number_of("DQGOV_REPORT_CACHE_SECONDS")

    def generation(self, tables: Iterable[str] = WATCHED) -> Generation | None:
        """Where `tables` stand (commits seen, per table), or None when changes made by other processes
        cannot be seen (then nothing is cached)."""
        if not self.enabled:
            return None
        self._start()
        if not self._listening:
            return None
        counts = [self._connections]
        for table in tables:
            counts += [_local.get((self._database, table), 0), self._remote.get(table, 0)]
        return tuple(counts)

    def get(self, key: Hashable, compute: Callable[[], T], tables: Iterable[str] = WATCHED) -> T:
        """The result cached under `key` while `tables` (what `compute` reads) stand, or `compute()`'s, kept for
        the next."""
        tables = tuple(tables)
        generation = self.generation(tables)  # read before computing: a change meanwhile makes it stale
        if generation is None:
            return compute()
        now = time.monotonic()
        found = self._found(key, generation, now)
        if found is not None:
            return found[0]  # type: ignore[no-any-return]
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one computation per key at a time: the others wait for it, not do it again
            found = self._found(key, generation, now)
            if found is not None:
                return found[0]  # type: ignore[no-any-return]
            value = compute()
            with self._lock:
                self.misses += 1
                self._entries[key] = (generation, now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > ENTRIES:
                    dropped, _ = self._entries.popitem(last=False)
                    self._computing.pop(dropped, None)
        return value

    def _found(self, key: Hashable, generation: Generation, now: float) -> tuple[Any] | None:
        """The result kept under `key` if it is of this generation and not too old."""
        seconds = self._seconds()  # read outside the lock: every page of every thread takes it
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != generation or now - found[1] >= seconds:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return (found[2],)

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
                self._connections += 1
                self._listening = True
                while not self._stop.is_set():
                    for notice in conn.notifies(timeout=1.0):  # the payload: the table that changed
                        self._remote[notice.payload] = self._remote.get(notice.payload, 0) + 1
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
