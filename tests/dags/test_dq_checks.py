"""The DAGs: wiring only, and they really run the checks and notifications through Airflow (`dag.test()`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.orchestration.embedded_airflow import DAGS_FOLDER, airflow_env, ensure_metadata_db, run_dag
from remediation.store.models import CheckRun, RunPartition, Todo
from remediation.store.workflow_models import InboxMessage, OutboxMessage, Snapshot
from tests.dbenv import BACKENDS, Databases
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row
from tests.servers import SmtpSink

PARSE_PROBE = f"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag({str(DAGS_FOLDER)!r})
print(json.dumps({{
    "errors": {{k: str(v) for k, v in bag.import_errors.items()}},
    "dags": {{d.dag_id: {{"tags": sorted(d.tags), "retries": [t.retries for t in d.tasks],
                          "tasks": sorted(t.task_id for t in d.tasks), "doc": bool(d.doc_md),
                          "tz": str(d.timezone)}}
             for d in bag.dags.values()}},
    "heavy": sorted(m for m in ("great_expectations", "pandas", "remediation.checks.pipeline") if m in sys.modules),
}}))
"""


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow")
    env = airflow_env({"AIRFLOW_HOME": str(home), "DQGOV_HOME": str(home), "DQGOV_RETRY_DELAY_SECONDS": "1"})
    ensure_metadata_db(env, home / "migrate.log")
    return env


def test_dag_files_parse_as_wiring_only(airflow_home: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE], env=airflow_home, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    assert parsed["heavy"] == []  # GX, pandas and the pipeline load inside tasks, not when the file is parsed
    checks = {f"dq_{s.table}" for s in load_suites()}
    assert set(parsed["dags"]) == checks | {"dq_notify", "dq_outbox", "dq_snapshot"}
    for dag_id, dag in parsed["dags"].items():
        assert "data-quality" in dag["tags"]
        assert min(dag["retries"]) >= 1
        assert dag["doc"] and dag["tz"] == "Asia/Shanghai"
        if dag_id in checks:
            assert dag["tasks"] == ["extract", "finish", "prepare", "reconcile", "sync_org"]
    assert parsed["dags"]["dq_notify"]["tasks"] == ["deliver", "remind"]
    assert parsed["dags"]["dq_outbox"]["tasks"] == ["deliver"]


@pytest.fixture(scope="module", params=BACKENDS)
def checked_by_airflow(
    request: pytest.FixtureRequest, airflow_home: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], Path]]:
    """A tiny bank checked by both check DAGs through Airflow: (environment with the store URL, log)."""
    dbs = Databases(request.param, tmp_path_factory.mktemp(request.param))
    source_url = dbs.new("source")
    build_source(
        source_url, [merchant_row(1), merchant_row(2, contact_phone="")], [customer_row(1, uscc=None)]
    )
    # two key ranges: the extract task is mapped twice (the to-dos are those of one range)
    env = {**airflow_home, "DQGOV_STORE_URL": dbs.new("store"), "DQGOV_CHECK_PARTITIONS": "2"}
    log = dbs.tmp_path / "dag.log"
    for table in ("merchant", "customer_org"):
        run_dag(f"dq_{table}", CHECK_DATE, {"source_url": source_url}, env, log)
    yield env, log
    dbs.drop_all()


def test_dags_run_the_checks_through_airflow(checked_by_airflow: tuple[dict[str, str], Path]) -> None:
    env, _ = checked_by_airflow
    engine = sa.create_engine(env["DQGOV_STORE_URL"])
    with engine.connect() as conn:
        todos = {
            tuple(r) for r in conn.execute(sa.select(Todo.record_key, Todo.rule_id, Todo.assignee_staff_id))
        }
        query = sa.select(CheckRun.table_name, CheckRun.trigger, CheckRun.status, CheckRun.logical_date)
        runs = [tuple(r) for r in conn.execute(query)]
        ranges = conn.execute(
            sa.select(RunPartition.run_id, sa.func.count()).group_by(RunPartition.run_id)
        ).all()
    engine.dispose()
    assert [n for _, n in ranges] == [2, 2]  # each check's extract ran as two mapped task instances
    assert todos == {
        ("102360458120002", "MER-C1-PHONE-REQUIRED", "M101"),
        ("C00000000001", "CUS-E2-USCC-REQUIRED", "M201"),
    }
    assert sorted(runs) == [
        ("customer_org", "airflow", "reconciled", CHECK_DATE),
        ("merchant", "airflow", "reconciled", CHECK_DATE),
    ]


def test_dq_notify_sends_the_digests_after_the_checks(
    checked_by_airflow: tuple[dict[str, str], Path],
) -> None:
    env, log = checked_by_airflow
    smtp = SmtpSink()
    smtp.start()
    try:
        run_dag("dq_notify", CHECK_DATE, {}, {**env, **smtp.env()}, log)
        run_dag("dq_notify", CHECK_DATE, {}, {**env, **smtp.env()}, log)  # a rerun sends nothing twice
    finally:
        smtp.stop()
    engine = sa.create_engine(env["DQGOV_STORE_URL"])
    with engine.connect() as conn:
        inbox = sorted(conn.execute(sa.select(InboxMessage.staff_id, InboxMessage.subject)).all())
        outbox = {tuple(r) for r in conn.execute(sa.select(OutboxMessage.channel, OutboxMessage.status))}
    engine.dispose()
    assert inbox == [
        ("M101", "【数据质量问题待办提醒】张经理：新增 1 项，临期 0 项，超时 0 项"),
        ("M201", "【数据质量问题待办提醒】吴经理：新增 1 项，临期 0 项，超时 0 项"),
    ]
    assert outbox == {("email", "sent"), ("inbox", "sent")}  # no WeCom webhook set: none queued
    assert sorted(smtp.recipients) == ["m101@bank.example", "m201@bank.example"]


def test_dq_snapshot_takes_the_days_snapshot_after_the_checks(
    checked_by_airflow: tuple[dict[str, str], Path],
) -> None:
    env, log = checked_by_airflow
    run_dag("dq_snapshot", CHECK_DATE, {}, env, log)
    engine = sa.create_engine(env["DQGOV_STORE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Snapshot.inst_code, Snapshot.rule_id, Snapshot.baseline, Snapshot.open)
            .where(Snapshot.snapshot_date == CHECK_DATE, Snapshot.segment == "stock")
            .order_by(Snapshot.inst_code, Snapshot.rule_id)
        ).all()
    engine.dispose()
    # one failing merchant in 浔阳 (110100) and one customer in 濂溪 (110200), rolled up to 110000 and 100000
    assert [tuple(r) for r in rows] == [
        ("100000", "CUS-E2-USCC-REQUIRED", 1, 1),
        ("100000", "MER-C1-PHONE-REQUIRED", 1, 1),
        ("110000", "CUS-E2-USCC-REQUIRED", 1, 1),
        ("110000", "MER-C1-PHONE-REQUIRED", 1, 1),
        ("110100", "MER-C1-PHONE-REQUIRED", 1, 1),
        ("110200", "CUS-E2-USCC-REQUIRED", 1, 1),
    ]
