"""The production tier end to end, as an operator stands it up: `make airflow-up` on a fresh PostgreSQL metadata
database, the scheduled check runs, the asset-triggered snapshot and reminders, the portal's "run now" for a
day the schedule has run already, a cleared reconcile of a superseded run, `make airflow-down` leaving nothing.

`AirflowTier` (tests/airflow_tier.py) is the harness; the CeleryExecutor test starts it with other settings.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa

from portal.app import create_app
from remediation.clock import TIMEZONE
from remediation.orchestration import airflow_service as svc
from remediation.store.engines import open_store
from remediation.store.models import CheckRun, Todo
from remediation.store.workflow_models import InboxMessage, Snapshot
from remediation.workdays import WorkdayCalendar
from remediation.workflow.accounts import ensure_demo_users
from tests.airflow_tier import WAIT_SECONDS, AirflowTier
from tests.dbenv import PG_ADMIN_URL, Databases
from tests.portal.conftest import PASSWORD, Client, serve


@pytest.fixture(scope="module")
def tier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowTier]:
    home = tmp_path_factory.mktemp("tier")
    dbs = Databases("postgresql", home)
    metadata = sa.make_url(PG_ADMIN_URL).set(database=f"dqgov_airflow_it_{uuid.uuid4().hex[:10]}")
    source = f"sqlite:///{home / 'source.sqlite'}"
    env = {
        "DQGOV_HOME": str(home),
        "DQGOV_STORE_URL": dbs.new("store"),
        "DQGOV_SOURCE_URL": source,
        "DQGOV_AIRFLOW_DB_URL": metadata.render_as_string(hide_password=False),
        "DQGOV_AIRFLOW_API_PORT": "28080",
        "DQGOV_AIRFLOW_LOG_PORT": "28093",
        "DQGOV_RETRY_DELAY_SECONDS": "5",
    }
    dqgov = str(Path(sys.executable).with_name("dqgov"))
    demo = [dqgov, "demo-data", "--out", source, "--merchants", "40", "--customers", "20"]
    subprocess.run(demo, env={**os.environ, **env}, check=True, capture_output=True, timeout=300)
    tier = AirflowTier(env)
    try:
        yield tier
    finally:
        tier.make("airflow-down")
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{metadata.database}" WITH (FORCE)'))
        admin.dispose()
        dbs.drop_all()


def shanghai_day(moment: str) -> dt.date:
    day: dt.date = pendulum.parse(moment).in_timezone(TIMEZONE).date()  # type: ignore[union-attr]
    return day


@pytest.mark.slow
def test_the_production_tier_schedules_the_checks_and_follows_up(
    tier: AirflowTier, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = tier.make("airflow-up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert tier.make("airflow-up").returncode == 0  # idempotent: nothing new started
    for key, value in tier.env.items():
        monkeypatch.setenv(key, value)
    assert all(s.running for s in svc.states())

    # 1. unpaused on creation, the scheduler starts each check DAG's latest scheduled run by itself
    scheduled = {
        dag: tier.wait_for(dag, 1, run_type="scheduled")[0] for dag in ("dq_merchant", "dq_customer_org")
    }
    day = shanghai_day(scheduled["dq_merchant"]["logical_date"])
    tier.wait_for("dq_snapshot", 1, run_type="asset_triggered")
    tier.wait_for("dq_notify", 1, run_type="asset_triggered")
    store = sa.create_engine(tier.env["DQGOV_STORE_URL"])
    with store.connect() as conn:
        runs = {
            tuple(r)
            for r in conn.execute(sa.select(CheckRun.table_name, CheckRun.logical_date, CheckRun.status))
        }
        todos = conn.scalar(sa.select(sa.func.count()).select_from(Todo))
        snapshot_days = set(conn.scalars(sa.select(Snapshot.snapshot_date)))
        inbox = conn.scalar(sa.select(sa.func.count()).select_from(InboxMessage))
    assert runs == {("merchant", day, "reconciled"), ("customer_org", day, "reconciled")}
    assert todos and snapshot_days == {day}
    assert inbox if WorkdayCalendar().is_workday(day) else inbox == 0  # no reminders on a day off

    # 2. "run now" in the portal (its runner goes through Airflow's API) for the day the schedule has run
    #    already, then for the day before
    monkeypatch.setenv("DQGOV_AIRFLOW_API_URL", f"http://127.0.0.1:{tier.env['DQGOV_AIRFLOW_API_PORT']}")
    portal_store = open_store(tier.env["DQGOV_STORE_URL"])
    office = next(u for u in ensure_demo_users(portal_store, PASSWORD) if u.position == "data_office")
    with serve(create_app(portal_store, tier.env["DQGOV_SOURCE_URL"], today=lambda: day)) as url:
        browser = Client(url)
        browser.login(office.staff_id, PASSWORD)
        for when in (day, day - dt.timedelta(days=1)):
            browser.get("/office/runs")
            assert browser.post("/office/runs/now", {"day": when.isoformat()}).status == 303
            deadline = time.monotonic() + WAIT_SECONDS
            while "运行中" in (page := browser.get("/office/runs").text) and time.monotonic() < deadline:
                time.sleep(3)
            assert "<strong>已完成</strong>" in page, page[page.find('id="trigger-state"') :][:1500]
            for dag in (
                "dq_customer_org",
                "dq_merchant",
                "dq_snapshot",
                "dq_notify",
            ):  # and what followed them
                assert f"{dag}</code> 成功" in page
    portal_store.dispose()
    with store.connect() as conn:
        statuses = sorted(
            tuple(r)
            for r in conn.execute(
                sa.select(CheckRun.table_name, CheckRun.logical_date, CheckRun.status).order_by(CheckRun.id)
            )
        )
        before = conn.execute(sa.select(Todo.id, Todo.status, Todo.assignee_staff_id).order_by(Todo.id)).all()
    older = day - dt.timedelta(days=1)
    assert ("merchant", older, "superseded") in statuses and ("merchant", day, "reconciled") in statuses

    # 3. clearing the reconcile task of the superseded run: a no-op that succeeds
    superseded = next(r for r in tier.runs("dq_merchant") if r["conf"].get("check_date") == older.isoformat())
    tier.api().call(
        "POST",
        "/api/v2/dags/dq_merchant/clearTaskInstances",
        {
            "dry_run": False,
            "dag_run_id": superseded["dag_run_id"],
            "task_ids": ["reconcile"],
            "only_failed": False,
        },
    )
    deadline = time.monotonic() + WAIT_SECONDS
    path = f"/api/v2/dags/dq_merchant/dagRuns/{superseded['dag_run_id']}/taskInstances/reconcile"
    while (ti := tier.api().call("GET", path))["try_number"] < 2 or ti["state"] != "success":
        assert ti["state"] not in ("failed", "upstream_failed") and time.monotonic() < deadline, ti
        time.sleep(3)
    with store.connect() as conn:
        after = conn.execute(sa.select(Todo.id, Todo.status, Todo.assignee_staff_id).order_by(Todo.id)).all()
    assert after == before
    store.dispose()

    # 4. down leaves no process behind
    down = tier.make("airflow-down")
    assert down.returncode == 0 and "stopped: api-server, scheduler, dag-processor" in down.stdout
    assert svc.leftovers() == [] and not any(s.running for s in svc.states())
    assert tier.make("airflow-status").returncode != 0
