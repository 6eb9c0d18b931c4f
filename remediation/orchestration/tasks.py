"""Bodies of the Airflow tasks. DAG files import this module inside their tasks, never at parse time."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pendulum

from remediation import settings
from remediation.clock import TIMEZONE


def check_date_of(context: dict[str, Any]) -> dt.date:
    """The run's logical date in Asia/Shanghai (a manual run without one uses its run_after)."""
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


def validate_task(table: str, context: dict[str, Any]) -> int:
    from expectations.rulebook import suite_for
    from remediation.checks.pipeline import open_source, validate
    from remediation.store.engines import open_store

    source = open_source(source_url_of(context), [table])
    try:
        summary = validate(source, open_store(), suite_for(table), check_date_of(context), trigger="airflow")
    finally:
        source.dispose()
    return summary.run_id


def reconcile_task(run_id: int) -> dict[str, Any]:
    """Reconcile the run. A stop by the volume guard fails the task at once: retrying cannot help, a person
    must accept the drop (the data office has been alerted). A superseded or abandoned run just says so."""
    from dataclasses import asdict

    from airflow.sdk.exceptions import AirflowFailException

    from remediation.checks.reconcile.run import reconcile_run
    from remediation.checks.volume import VolumeGuardTripped
    from remediation.lifecycle import Lifecycle
    from remediation.store.engines import open_store

    try:
        return asdict(reconcile_run(open_store(), run_id, Lifecycle.in_force()))
    except VolumeGuardTripped as exc:
        raise AirflowFailException(str(exc)) from None


def snapshot_task(context: dict[str, Any]) -> dict[str, Any]:
    from remediation.reporting.snapshots import take_snapshot
    from remediation.store.engines import open_store

    summary = take_snapshot(open_store(), check_date_of(context))
    if summary.not_frozen_because:
        logging.getLogger(__name__).warning("%s", summary.not_frozen_because)
    return {"day": summary.day.isoformat(), "rows": summary.rows, "frozen": summary.frozen,
            "not_frozen_because": summary.not_frozen_because}  # fmt: skip
