"""Runs whose process died are swept, not left half-alive: the run list tells the truth.

A validating run beats its heart (`dq_check_run.heartbeat_at`) from a background thread. `sweep_runs`
marks as *abandoned*:
- a validating run whose owner process is gone (same host, its pid no longer exists), or whose heart
  has not beaten for the lease (DQGOV_RUN_LEASE_MINUTES), whichever host it ran on;
- a validated run nobody reconciled within the lease (the process or the Airflow task that would have
  reconciled it died). Between Airflow's validate and reconcile tasks the validating process ends on
  purpose, so a validated run is judged by time alone.
An abandoned run is never applied; its staging is dropped. Each sweep is one short transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from remediation import settings
from remediation.clock import as_utc, now
from remediation.errors import DqgovError
from remediation.store.models import (
    LIVE_RUN_STATUSES,
    CheckRun,
    DuplicateKey,
    Finding,
    RecordState,
    RunPartition,
    RunStatus,
)


def lease() -> dt.timedelta:
    minutes = settings.number_of("DQGOV_RUN_LEASE_MINUTES")
    if minutes <= 0:
        raise DqgovError(
            f"DQGOV_RUN_LEASE_MINUTES={minutes:g} must be more than 0",
            code="setting_not_positive",
            name="DQGOV_RUN_LEASE_MINUTES",
        )
    return dt.timedelta(minutes=minutes)


def _process_gone(owner: str | None) -> bool:
    """True when `owner` (host:pid) ran on this host and that process no longer exists."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def sweep_runs(
    store: sa.Engine, at: dt.datetime | None = None, within: dt.timedelta | None = None
) -> list[int]:
    """Mark runs left behind by dead processes as abandoned; returns their ids."""
    at = at or now()
    within = within or lease()
    cutoff = at - within
    with store.connect() as conn:
        live = conn.execute(
            sa.select(
                CheckRun.id, CheckRun.status, CheckRun.owner, CheckRun.heartbeat_at, CheckRun.started_at
            ).where(CheckRun.status.in_(LIVE_RUN_STATUSES))
        ).all()
    swept: dict[int, str] = {}
    for run in live:
        heard = as_utc(run.heartbeat_at or run.started_at)
        silent = heard < cutoff
        if run.status == RunStatus.VALIDATING and _process_gone(run.owner):
            swept[run.id] = f"abandoned: its process {run.owner} stopped while validating"
        elif silent:
            doing = "validating" if run.status == RunStatus.VALIDATING else "waiting to be reconciled"
            swept[run.id] = f"abandoned: not heard from since {heard:%Y-%m-%d %H:%M} UTC while {doing}"
    if swept:
        with store.begin() as conn:
            for run_id, why in swept.items():
                conn.execute(
                    sa.update(CheckRun)
                    .where(
                        CheckRun.id == run_id,
                        CheckRun.status.in_(LIVE_RUN_STATUSES),
                    )
                    .values(status=RunStatus.ABANDONED, error=why, finished_at=at)
                )
                for model in (Finding, RecordState, DuplicateKey, RunPartition):
                    conn.execute(sa.delete(model).where(model.run_id == run_id))
    return sorted(swept)


def beat(store: sa.Engine, run_id: int) -> None:
    with store.begin() as conn:
        conn.execute(sa.update(CheckRun).where(CheckRun.id == run_id).values(heartbeat_at=now()))


@contextmanager
def heartbeat(store: sa.Engine, run_id: int, every: float | None = None) -> Iterator[None]:
    """Beat the run's heart from a background thread while the block runs."""
    interval = every if every is not None else min(60.0, lease().total_seconds() / 5)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            with contextlib.suppress(SQLAlchemyError):  # busy or unreachable: the next beat tries again
                beat(store, run_id)

    thread = threading.Thread(target=loop, name=f"dqgov-heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
