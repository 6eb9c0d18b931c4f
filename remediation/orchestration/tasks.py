"""Bodies of the Airflow tasks. DAG files import this module inside their tasks, never at parse time."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pendulum

from remediation import settings
from remediation.clock import TIMEZONE
from remediation.store.models import RunStatus

_log = logging.getLogger(__name__)


def check_date_of(context: dict[str, Any]) -> dt.date:
    """The run's check date: `conf["check_date"]` ("run now" for a day), else its logical date in Asia/Shanghai
    (a manual run without one uses its run_after)."""
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    if conf.get("check_date"):
        return dt.date.fromisoformat(str(conf["check_date"]))
    moment = context.get("logical_date") or context["dag_run"].run_after
    day: dt.date = pendulum.instance(moment).in_timezone(TIMEZONE).date()
    return day


def source_url_of(context: dict[str, Any]) -> str:
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    return str(conf.get("source_url") or settings.get("DQGOV_SOURCE_URL"))


def sync_org_task(context: dict[str, Any]) -> dict[str, Any]:
    from remediation.checks.pipeline import open_source
    from remediation.checks.routing import sync_org
    from remediation.store.engines import open_store

    source = open_source(source_url_of(context), [])
    try:
        summary = sync_org(source, open_store())
    finally:
        source.dispose()
    return {
        "institutions": summary.institutions,
        "staff": summary.staff,
        "active_staff": summary.active_staff,
    }


def prepare_task(table: str, context: dict[str, Any]) -> list[dict[str, Any]]:
    """A new run validated by GX and cut into key ranges: one item per range, for the mapped extract tasks
    (each item is the whole prepared run with its range's number)."""
    from expectations.rulebook import suite_for
    from remediation.checks.partitions import partition_count, prepare
    from remediation.checks.pipeline import open_source
    from remediation.store.engines import open_store

    conf = getattr(context.get("dag_run"), "conf", None) or {}
    partitions = partition_count(conf.get("partitions"))
    source = open_source(source_url_of(context), [table])
    try:
        # incremental, but full on the days of DQGOV_FULL_SWEEP (by the logical date) or when it must be
        store, date = open_store(), check_date_of(context)
        prepared = prepare(source, store, suite_for(table), date, partitions, mode="auto")
    finally:
        source.dispose()
    return [{**prepared.as_json(), "part": r.part} for r in prepared.ranges]


def extract_task(table: str, part: dict[str, Any], context: dict[str, Any]) -> int:
    """Stage the findings of one key range (a retry after a commit is a no-op); the failing records read."""
    from expectations.rulebook import suite_for
    from remediation.checks.partitions import Prepared, extract_range
    from remediation.checks.pipeline import open_source
    from remediation.store.engines import open_store

    source = open_source(source_url_of(context), [table])
    try:
        prepared = Prepared.from_json(part)
        return extract_range(source, open_store(), suite_for(table), prepared, int(part["part"]))
    finally:
        source.dispose()


def finish_task(table: str, parts: list[dict[str, Any]], context: dict[str, Any]) -> int:
    """Sum the ranges, compare with GX, mark the run validated; its id, for reconcile."""
    from expectations.rulebook import suite_for
    from remediation.checks.partitions import Prepared, finish
    from remediation.checks.pipeline import open_source
    from remediation.store.engines import open_store

    source = open_source(source_url_of(context), [table])
    try:
        summary = finish(source, open_store(), suite_for(table), Prepared.from_json(next(iter(parts))))
    finally:
        source.dispose()
    return summary.run_id


def reconcile_task(run_id: int, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reconcile the run and tell the asset-triggered DAGs its check date (the asset event's `extra`).

    Safe to run again (a retry, a cleared task): a run reconciled already, superseded, abandoned or void is a
    logged no-op that succeeds. A stop by the volume guard fails the task at once: retrying cannot help, a
    person must accept the drop (the data office has been alerted)."""
    from dataclasses import asdict

    from airflow.sdk.exceptions import AirflowFailException

    from remediation.checks.reconcile.run import reconcile_run
    from remediation.checks.volume import VolumeGuardTripped
    from remediation.lifecycle import Lifecycle
    from remediation.orchestration import followups
    from remediation.store.engines import open_store

    store = open_store()
    before, check_date = _run_status(store, run_id)
    try:
        summary = reconcile_run(store, run_id, Lifecycle.in_force())
    except VolumeGuardTripped as exc:
        raise AirflowFailException(str(exc)) from None
    status = str(summary.status)
    if before == RunStatus.RECONCILED and _overtaken(store, run_id):
        status = "overtaken"  # cleared long after: a newer run applied since, its day's figures stand
    if status == RunStatus.RECONCILED:
        followups.request(store, check_date)  # the snapshot and reminders, even if their DAGs are paused
    if before != RunStatus.VALIDATED:
        _log.info("check run %s was %s already: nothing to reconcile, nothing changed", run_id, before)
    elif summary.status != RunStatus.RECONCILED:
        _log.info("check run %s is %s: nothing to reconcile, nothing changed", run_id, summary.status)
    event = {"check_date": check_date.isoformat(), "run_id": run_id, "status": status}
    for accessor in _outlet_accessors(context):
        accessor.extra = event
    return {**asdict(summary), "status": str(summary.status), "check_date": check_date.isoformat()}


def _run_status(store: Any, run_id: int) -> tuple[str, dt.date]:
    import sqlalchemy as sa

    from remediation.errors import DqgovError
    from remediation.store.models import CheckRun

    with store.connect() as conn:
        row = conn.execute(
            sa.select(CheckRun.status, CheckRun.logical_date).where(CheckRun.id == run_id)
        ).one_or_none()
    if row is None:
        raise DqgovError(f"there is no check run {run_id}", code="run_not_found", run=run_id)
    return str(row.status), row.logical_date


def _overtaken(store: Any, run_id: int) -> bool:
    """A newer full run of the run's table has reconciled since (snapshots are taken from the to-dos as they
    are now, so following up an older day again would label today's figures with that day)."""
    import sqlalchemy as sa

    from remediation.checks.reconcile.run import newer_run
    from remediation.store.models import CheckRun

    with store.connect() as conn:
        run = conn.execute(sa.select(CheckRun).where(CheckRun.id == run_id)).one()
        return newer_run(conn, run) is not None


def _outlet_accessors(context: dict[str, Any] | None) -> list[Any]:
    events = (context or {}).get("outlet_events")
    task = (context or {}).get("task")
    if events is None or task is None:
        return []
    return [events[outlet] for outlet in getattr(task, "outlets", [])]


def check_dates_of(context: dict[str, Any]) -> list[dt.date]:
    """The check dates an asset-triggered run works on, oldest first (follow-ups pending come on top).

    From the triggering asset events' `extra` (the reconcile task puts the check date there): the dates of
    the runs that reconciled; empty when every event was a no-op (a cleared or superseded run). A run of the
    daily schedule has none of its own (it catches up on the follow-ups); one triggered by hand or by
    `dag.test()` uses `conf["check_date"]`, else its logical date."""
    if str(getattr(context.get("dag_run"), "run_type", "")) in ("scheduled", "DagRunType.SCHEDULED"):
        return []
    events = context.get("triggering_asset_events") or {}
    extras = [dict(e.extra or {}) for asset in events for e in events[asset]]
    if extras:
        return sorted(
            {
                dt.date.fromisoformat(str(x["check_date"]))
                for x in extras
                if x.get("check_date") and x.get("status", RunStatus.RECONCILED) == RunStatus.RECONCILED
            }
        )
    return [check_date_of(context)]


def follow_up(
    kind: str, context: dict[str, Any], work: Callable[[Any, dt.date], dict[str, Any]]
) -> list[dict[str, Any]]:
    """`work(store, day)` for each check date of the run and each pending follow-up of `kind`, marked done."""
    from remediation.clock import now
    from remediation.orchestration import followups
    from remediation.store.engines import open_store

    store, started = open_store(), now()
    days = sorted(set(check_dates_of(context)) | set(followups.pending(store, kind)))
    if not days:
        _log.info("no check date needs a %s: nothing to do", kind)
    done = []
    for day in days:
        done.append(work(store, day))
        followups.mark_done(store, day, kind, started)
    return done


def snapshot_task(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The snapshot of each check date the triggering asset events carry, and of those still pending."""
    return follow_up("snapshot", context, _snapshot)


def _snapshot(store: Any, day: dt.date) -> dict[str, Any]:
    from remediation.reporting.snapshots import take_snapshot

    summary = take_snapshot(store, day)
    if summary.not_frozen_because:
        _log.warning("%s", summary.not_frozen_because)
    return {
        "day": summary.day.isoformat(),
        "rows": summary.rows,
        "frozen": summary.frozen,
        "not_frozen_because": summary.not_frozen_because,
    }
