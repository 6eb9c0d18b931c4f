"""Scale-out on Airflow's CeleryExecutor, for real: `make airflow-up` with AIRFLOW__CORE__EXECUTOR=CeleryExecutor
starts the API server, scheduler and DAG processor and a Celery worker (broker: the machine's Redis, a
database of this test's own), metadata on PostgreSQL. The merchant check runs for one day with one key
range, then on a fresh store with four (the run's conf `partitions`): the to-dos are the same, the four
ranges ran as four mapped task instances on the Celery worker, and `make airflow-down` leaves nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from remediation.orchestration import airflow_service as svc
from remediation.store.models import CheckRun, RunPartition, Todo
from tests.airflow_tier import WAIT_SECONDS, AirflowTier
from tests.dbenv import PG_ADMIN_URL, Databases
from tests.remediation.orchestration.test_production_airflow import shanghai_day

BROKER = os.environ.get("DQGOV_TEST_CELERY_BROKER", "redis://127.0.0.1:6379/7")  # a Redis database of our own
DAG = "dq_merchant"


def _admin(sql: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(sql))
    admin.dispose()


@pytest.fixture(scope="module")
def celery_tier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowTier]:
    home = tmp_path_factory.mktemp("celery")
    dbs = Databases("postgresql", home)
    metadata = sa.make_url(PG_ADMIN_URL).set(database=f"dqgov_celery_airflow_{uuid.uuid4().hex[:10]}")
    source = dbs.new("source")
    env = {
        "DQGOV_HOME": str(home),
        "DQGOV_STORE_URL": dbs.new("store"),
        "DQGOV_SOURCE_URL": source,
        "DQGOV_AIRFLOW_DB_URL": metadata.render_as_string(hide_password=False),
        "DQGOV_AIRFLOW_API_PORT": "18380",
        "DQGOV_AIRFLOW_LOG_PORT": "18393",
        "DQGOV_RETRY_DELAY_SECONDS": "5",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": BROKER,
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # only the DAG the test unpauses runs
    }
    dqgov = str(Path(sys.executable).with_name("dqgov"))
    demo = [dqgov, "demo-data", "--out", source, "--merchants", "300", "--customers", "20"]
    subprocess.run(demo, env={**os.environ, **env}, check=True, capture_output=True, timeout=300)
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    tier = AirflowTier(env)
    try:
        yield tier
    finally:
        tier.make("airflow-down")
        broker.flushdb()
        broker.close()
        _admin(f'DROP DATABASE IF EXISTS "{metadata.database}" WITH (FORCE)')
        dbs.drop_all()


def merchant_todos(store_url: str) -> set[tuple[Any, ...]]:
    store = sa.create_engine(store_url)
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(
                Todo.record_key, Todo.rule_id, Todo.assignee_staff_id, Todo.due_date, Todo.status
            ).where(Todo.table_name == "merchant")
        )
        todos = {tuple(r) for r in rows}
    store.dispose()
    return todos


def extract_instances(tier: AirflowTier, run_id: str) -> list[dict[str, Any]]:
    answer = tier.api().call("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/extract/listMapped")
    instances: list[dict[str, Any]] = answer["task_instances"]
    return sorted(instances, key=lambda ti: int(ti["map_index"]))


def wait_until_parsed(tier: AirflowTier) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            tier.api().call("GET", f"/api/v2/dags/{DAG}")
            return
        except Exception:  # not parsed yet: the API answers 404
            assert time.monotonic() < deadline, "the DAG processor never parsed dq_merchant"
            time.sleep(3)


@pytest.mark.slow
def test_one_and_four_key_ranges_on_celery_workers_give_the_same_todos(
    celery_tier: AirflowTier, monkeypatch: pytest.MonkeyPatch
) -> None:
    tier = celery_tier
    up = tier.make("airflow-up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "celery-worker" in up.stdout and "running" in up.stdout.split("celery-worker")[1].splitlines()[0]
    for key, value in tier.env.items():
        monkeypatch.setenv(key, value)
    wait_until_parsed(tier)

    # 1. one key range (DQGOV_CHECK_PARTITIONS' default): the scheduled run, once the DAG is unpaused
    tier.api().call("PATCH", f"/api/v2/dags/{DAG}", {"is_paused": False})
    first = tier.wait_for(DAG, 1, run_type="scheduled")[0]
    day = shanghai_day(first["logical_date"])
    assert [ti["map_index"] for ti in extract_instances(tier, first["dag_run_id"])] == [0]
    one = merchant_todos(tier.env["DQGOV_STORE_URL"])
    assert len(one) > 10

    # 2. a fresh store (same database, emptied), four key ranges, the same day
    store_db = sa.make_url(tier.env["DQGOV_STORE_URL"]).database
    _admin(f'DROP DATABASE "{store_db}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{store_db}"')
    run_id = f"four_ranges_{uuid.uuid4().hex[:8]}"
    body = {
        "dag_run_id": run_id,
        "logical_date": None,
        "conf": {"check_date": day.isoformat(), "partitions": 4},
    }
    tier.api().call("POST", f"/api/v2/dags/{DAG}/dagRuns", body)
    tier.wait_for(DAG, 1, dag_run_id=run_id)
    four = merchant_todos(tier.env["DQGOV_STORE_URL"])
    assert four == one

    instances = extract_instances(tier, run_id)
    assert [ti["map_index"] for ti in instances] == [0, 1, 2, 3]
    assert {ti["state"] for ti in instances} == {"success"}
    assert {ti["executor"] or "CeleryExecutor" for ti in instances} == {"CeleryExecutor"}
    worker_log = (Path(tier.env["DQGOV_HOME"]) / "var" / "airflow" / "logs" / "celery-worker.log").read_text()
    assert worker_log.count("execute_workload") >= 2 * (1 + 1 + 1 + 1 + 1) + 4  # both runs' tasks went there
    store = sa.create_engine(tier.env["DQGOV_STORE_URL"])
    with store.connect() as conn:
        run = conn.execute(sa.select(CheckRun.id, CheckRun.failing_records, CheckRun.status)).one()
        parts = conn.execute(sa.select(RunPartition.part, RunPartition.records)).all()
    store.dispose()
    assert run.status == "reconciled"
    assert (
        sorted(p.part for p in parts) == [0, 1, 2, 3] and sum(p.records for p in parts) == run.failing_records
    )
    assert all(p.records > 0 for p in parts)  # the ranges really split the merchants

    # 3. down stops the worker too, and leaves no process behind
    down = tier.make("airflow-down")
    assert down.returncode == 0 and "celery-worker" in down.stdout, down.stdout + down.stderr
    assert svc.leftovers() == [] and not any(s.running for s in svc.states())
