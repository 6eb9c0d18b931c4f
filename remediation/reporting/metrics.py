"""The store's numbers for Prometheus, read at scrape time (the portal serves them on `/metrics`).

A `StoreCollector` queries the store on each scrape; each app builds its own `CollectorRegistry`, so no
global state is shared between apps or tests. Check runs here are full runs (`record_key IS NULL`): a
one-record re-check is not a night's run. Every series is a count or a duration: no personal data.

| metric | labels | meaning |
|---|---|---|
| `dqgov_up` | | 1 when the store answered this scrape's queries, else 0 (and nothing else is reported) |
| `dqgov_check_runs` | table, status | full check runs in the store, by status |
| `dqgov_check_run_duration_seconds` | table | histogram of finished full runs' durations |
| `dqgov_check_last_run_duration_seconds` | table | duration of the latest finished full run |
| `dqgov_check_last_success_age_seconds` | table | seconds since the latest `reconciled` full run finished (+Inf: never) |
| `dqgov_todos` | table, status | to-dos by status |
| `dqgov_outbox_pending` / `dqgov_outbox_dead` | channel | messages waiting to be delivered / given up on |
| `dqgov_outbox_oldest_pending_age_seconds` | channel | age of the oldest pending message (0: none) |
| `dqgov_volume_guard_trips_total` | table | full runs the volume guard stopped (`dq_check_run.guard` set), accepted since or not |
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from remediation.clock import as_utc, now
from remediation.store.models import CheckRun, RunStatus, Todo, TodoStatus
from remediation.store.workflow_models import OutboxMessage

DURATION_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
CHANNELS = ("email", "wecom", "inbox")
log = logging.getLogger(__name__)


def _seconds(start: dt.datetime, end: dt.datetime) -> float:
    return max((as_utc(end) - as_utc(start)).total_seconds(), 0.0)


class StoreCollector:
    """Queries the store at each scrape. `tables` names the suites' tables, so each has its series even
    before its first run."""

    def __init__(
        self,
        store: sa.Engine,
        tables: Callable[[], Sequence[str]],
        clock: Callable[[], dt.datetime] = now,
    ) -> None:
        self.store = store
        self.tables = tables
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        families: list[Metric] = []
        try:
            with self.store.connect() as conn:
                families = [*self._runs(conn), *self._todos(conn), *self._outbox(conn)]
            up = 1
        except Exception as exc:  # a scrape must answer even when the store does not
            log.warning(
                "metrics: store query failed: %s", str(exc).strip().splitlines()[0] if str(exc) else exc
            )
            up = 0
        yield GaugeMetricFamily("dqgov_up", "1 when the store answered this scrape's queries.", value=up)
        yield from families

    def _table_names(self, found: Iterable[str]) -> list[str]:
        return sorted(set(self.tables()) | set(found))

    def _runs(self, conn: sa.Connection) -> list[Metric]:
        full = CheckRun.record_key.is_(None)
        by_status = list(
            conn.execute(
                sa.select(CheckRun.table_name, CheckRun.status, sa.func.count())
                .where(full)
                .group_by(CheckRun.table_name, CheckRun.status)
            )
        )
        finished = [
            tuple(row)
            for row in conn.execute(
                sa.select(CheckRun.table_name, CheckRun.status, CheckRun.started_at, CheckRun.finished_at)
                .where(full, CheckRun.finished_at.is_not(None))
                .order_by(CheckRun.id)
            )
        ]
        trips = dict(
            conn.execute(
                sa.select(CheckRun.table_name, sa.func.count())
                .where(full, CheckRun.guard.is_not(None))
                .group_by(CheckRun.table_name)
            ).all()
        )
        tables = self._table_names([t for t, _, _ in by_status])
        statuses = sorted({s.value for s in RunStatus} | {s for _, s, _ in by_status})
        counts = {(t, s): n for t, s, n in by_status}
        runs = GaugeMetricFamily(
            "dqgov_check_runs",
            "Full check runs in the store, by table and status.",
            labels=["table", "status"],
        )
        for table in tables:
            for status in statuses:
                runs.add_metric([table, status], counts.get((table, status), 0))
        guard = CounterMetricFamily(
            "dqgov_volume_guard_trips", "Full check runs stopped by the volume guard.", labels=["table"]
        )
        for table in tables:
            guard.add_metric([table], trips.get(table, 0))
        return [runs, *self._durations(finished, tables), guard]

    def _durations(self, finished: Sequence[tuple[Any, ...]], tables: Sequence[str]) -> list[Metric]:
        per_table: dict[str, list[float]] = defaultdict(list)
        last_success: dict[str, dt.datetime] = {}
        for table, status, started, ended in finished:
            per_table[table].append(_seconds(started, ended))
            if status == RunStatus.RECONCILED:
                last_success[table] = max(as_utc(ended), last_success.get(table, as_utc(ended)))
        histogram = HistogramMetricFamily(
            "dqgov_check_run_duration_seconds", "Durations of finished full check runs.", labels=["table"]
        )
        last = GaugeMetricFamily(
            "dqgov_check_last_run_duration_seconds",
            "Duration of the latest finished full check run.",
            labels=["table"],
        )
        age = GaugeMetricFamily(
            "dqgov_check_last_success_age_seconds",
            "Seconds since the latest reconciled full check run finished (+Inf: never).",
            labels=["table"],
        )
        now = self.clock()
        for table in tables:
            durations = per_table.get(table, [])
            buckets = [(str(b), float(sum(1 for d in durations if d <= b))) for b in DURATION_BUCKETS]
            buckets.append(("+Inf", float(len(durations))))
            histogram.add_metric([table], buckets, sum_value=sum(durations))
            if durations:
                last.add_metric([table], durations[-1])
            success = last_success.get(table)
            age.add_metric([table], (now - success).total_seconds() if success else math.inf)
        return [histogram, last, age]

    def _todos(self, conn: sa.Connection) -> list[Metric]:
        rows = list(
            conn.execute(
                sa.select(Todo.table_name, Todo.status, sa.func.count()).group_by(
                    Todo.table_name, Todo.status
                )
            )
        )
        counts = {(t, s): n for t, s, n in rows}
        statuses = sorted({s.value for s in TodoStatus} | {s for _, s, _ in rows})
        todos = GaugeMetricFamily("dqgov_todos", "To-dos by table and status.", labels=["table", "status"])
        for table in self._table_names([t for t, _, _ in rows]):
            for status in statuses:
                todos.add_metric([table, status], counts.get((table, status), 0))
        return [todos]

    def _outbox(self, conn: sa.Connection) -> list[Metric]:
        rows = list(
            conn.execute(
                sa.select(
                    OutboxMessage.channel,
                    OutboxMessage.status,
                    sa.func.count(),
                    sa.func.min(OutboxMessage.created_at),
                )
                .where(OutboxMessage.status.in_(("pending", "dead")))
                .group_by(OutboxMessage.channel, OutboxMessage.status)
            )
        )
        found = {(c, s): (n, oldest) for c, s, n, oldest in rows}
        pending = GaugeMetricFamily(
            "dqgov_outbox_pending", "Outbox messages waiting for delivery.", labels=["channel"]
        )
        dead = GaugeMetricFamily(
            "dqgov_outbox_dead", "Outbox messages given up on after the last attempt.", labels=["channel"]
        )
        oldest = GaugeMetricFamily(
            "dqgov_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message (0: none).",
            labels=["channel"],
        )
        now = self.clock()
        for channel in sorted(set(CHANNELS) | {c for c, _, _, _ in rows}):
            n_pending, first = found.get((channel, "pending"), (0, None))
            pending.add_metric([channel], n_pending)
            dead.add_metric([channel], found.get((channel, "dead"), (0, None))[0])
            oldest.add_metric([channel], (now - as_utc(first)).total_seconds() if first else 0.0)
        return [pending, dead, oldest]


def metrics_registry(store: sa.Engine, tables: Callable[[], Sequence[str]]) -> CollectorRegistry:
    """A registry of its own (never prometheus_client's global one) holding the store's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, tables))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of everything in `registry`."""
    return generate_latest(registry)
