"""The Airflow task bodies as Airflow calls them: a cleared or retried reconcile is a no-op that succeeds, and
the asset-triggered snapshot and reminders work on the check date the asset events carry, not on today."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
from airflow.sdk.execution_time.context import OutletEventAccessors, TriggeringAssetEventsAccessor

from remediation.orchestration.dag_defaults import todos_asset
from remediation.orchestration.notify_tasks import remind_task
from remediation.orchestration.tasks import reconcile_task, snapshot_task
from remediation.store.workflow_models import InboxMessage, OutboxMessage, Snapshot
from tests.checkbank import Bank
from tests.factories import CHECK_DATE


class Run:
    """What Airflow's context says about the DAG run (only the fields the task bodies read)."""

    def __init__(self, run_after: dt.datetime, run_type: str = "asset_triggered") -> None:
        self.run_after = run_after
        self.run_type = run_type
        self.conf: dict[str, Any] = {}


@pytest.fixture
def bank(databases: Any, monkeypatch: pytest.MonkeyPatch) -> Bank:
    bank = Bank(databases)
    monkeypatch.setenv("DQGOV_STORE_URL", bank.store.url.render_as_string(hide_password=False))
    return bank


def reconcile_context() -> dict[str, Any]:
    from dags.dq_checks import build

    return {
        "task": build("merchant", "0 6 * * *").get_task("reconcile"),
        "outlet_events": OutletEventAccessors(),
    }


def emitted(context: dict[str, Any]) -> dict[str, Any]:
    from airflow.sdk import Asset

    return dict(context["outlet_events"][Asset(todos_asset("merchant"))].extra)


def test_a_cleared_reconcile_of_a_reconciled_or_superseded_run_succeeds_and_changes_nothing(
    bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    bank.run()
    older, newer = bank.validate(), bank.validate()
    first = reconcile_context()
    assert reconcile_task(newer, first)["status"] == "reconciled"
    assert emitted(first) == {"check_date": CHECK_DATE.isoformat(), "run_id": newer, "status": "reconciled"}
    todos = bank.todos()

    caplog.set_level(logging.INFO, "remediation.orchestration.tasks")
    cleared = reconcile_context()
    assert reconcile_task(newer, cleared)["status"] == "reconciled"  # the retry after a lost worker
    assert emitted(cleared)["status"] == "reconciled"  # the snapshot and reminders still follow
    assert bank.todos() == todos
    newest = bank.validate()
    assert reconcile_task(newest, reconcile_context())["status"] == "reconciled"
    overtaken = reconcile_context()
    assert reconcile_task(newer, overtaken)["status"] == "reconciled"  # cleared after a newer run applied
    assert emitted(overtaken)["status"] == "overtaken"  # no snapshot or reminders for it again
    todos = bank.todos()  # as the newest run left them
    superseded = reconcile_context()
    assert reconcile_task(older, superseded)["status"] == "superseded"
    assert emitted(superseded)["status"] == "superseded"
    assert bank.todos() == todos
    assert f"check run {newer} was reconciled already: nothing to reconcile" in caplog.text
    assert f"check run {older} was superseded already: nothing to reconcile" in caplog.text


def triggered_by(*extras: dict[str, Any]) -> TriggeringAssetEventsAccessor:
    now = pendulum.now("UTC")
    return TriggeringAssetEventsAccessor.build(
        AssetEventDagRunReferenceResult(
            asset={"name": todos_asset(table), "uri": todos_asset(table), "extra": {}},
            extra=extra,
            source_task_id="reconcile",
            source_dag_id=f"dq_{table}",
            source_run_id="r",
            source_map_index=-1,
            source_aliases=[],
            timestamp=now,
        )
        for table, extra in zip(("merchant", "customer_org"), extras, strict=True)
    )


def test_snapshot_and_reminders_follow_the_check_date_of_the_asset_events(bank: Bank) -> None:
    bank.run()
    today = pendulum.datetime(2026, 11, 30, 9, tz="Asia/Shanghai")  # run_after: when the events arrived
    day = {"check_date": CHECK_DATE.isoformat(), "status": "reconciled", "run_id": bank.last_run_id()}
    noop = {"check_date": (CHECK_DATE - dt.timedelta(days=3)).isoformat(), "status": "superseded"}
    context = {"triggering_asset_events": triggered_by(day, noop), "dag_run": Run(today)}

    assert [s["day"] for s in snapshot_task(context)] == [CHECK_DATE.isoformat()]
    assert [s["as_of"] for s in remind_task(context)] == [CHECK_DATE.isoformat()]
    with bank.store.connect() as conn:
        days = set(conn.scalars(sa.select(Snapshot.snapshot_date)))
        keys = set(conn.scalars(sa.select(OutboxMessage.dedupe_key)))
        inbox = conn.scalar(sa.select(sa.func.count()).select_from(InboxMessage))
    assert days == {CHECK_DATE}
    assert keys and all(k.startswith(f"digest:{CHECK_DATE.isoformat()}:") for k in keys)
    assert inbox == 0  # queued only: dq_notify's deliver task sends them

    only_noops = {"triggering_asset_events": triggered_by(noop, noop), "dag_run": Run(today)}
    assert snapshot_task(only_noops) == [] and remind_task(only_noops) == []


def test_a_day_whose_checks_reconciled_gets_its_snapshot_and_reminders_after_the_dags_were_paused(
    bank: Bank,
) -> None:
    """Paused dq_snapshot and dq_notify got no asset event; their daily (or unpause) run catches up once."""
    bank.run()  # the org and staff mirrored, the to-dos opened
    bank.validate()
    reconcile_task(bank.last_run_id(), reconcile_context())  # the day's events went nowhere
    catch_up = {"dag_run": Run(pendulum.datetime(2026, 11, 30, 9, tz="Asia/Shanghai"), "scheduled")}

    assert [s["day"] for s in snapshot_task(catch_up)] == [CHECK_DATE.isoformat()]
    assert [s["as_of"] for s in remind_task(catch_up)] == [CHECK_DATE.isoformat()]
    assert snapshot_task(catch_up) == [] and remind_task(catch_up) == []  # done once
    with bank.store.connect() as conn:
        assert set(conn.scalars(sa.select(Snapshot.snapshot_date))) == {CHECK_DATE}
        assert conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
