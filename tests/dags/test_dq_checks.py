"""The DAGs: wiring only, and they really run the checks through Airflow (`dag.test()`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.embedded_airflow import DAGS_FOLDER, airflow_env, ensure_metadata_db, run_dag
from remediation.models import CheckRun, Todo
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row

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
    "heavy": sorted(m for m in ("great_expectations", "pandas", "remediation.pipeline") if m in sys.modules),
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
    assert set(parsed["dags"]) == {f"dq_{s.table}" for s in load_suites()}
    for dag in parsed["dags"].values():
        assert "data-quality" in dag["tags"]
        assert min(dag["retries"]) >= 1
        assert dag["tasks"] == ["reconcile", "sync_org", "validate"]
        assert dag["doc"] and dag["tz"] == "Asia/Shanghai"


def test_dags_run_the_checks_through_airflow(
    databases: Any, airflow_home: dict[str, str], tmp_path: Path
) -> None:
    source_url = databases.new("source")
    build_source(
        source_url, [merchant_row(1), merchant_row(2, contact_phone="")], [customer_row(1, uscc=None)]
    )
    store_url = databases.new("store")
    env = {**airflow_home, "DQGOV_STORE_URL": store_url}
    log = tmp_path / "dag.log"
    for table in ("merchant", "customer_org"):
        run_dag(f"dq_{table}", CHECK_DATE, {"source_url": source_url}, env, log)
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        todos = {
            tuple(r) for r in conn.execute(sa.select(Todo.record_key, Todo.rule_id, Todo.assignee_staff_id))
        }
        query = sa.select(CheckRun.table_name, CheckRun.trigger, CheckRun.status, CheckRun.logical_date)
        runs = [tuple(r) for r in conn.execute(query)]
    engine.dispose()
    assert todos == {
        ("102360458120002", "MER-C1-PHONE-REQUIRED", "M101"),
        ("C00000000001", "CUS-E2-USCC-REQUIRED", "M201"),
    }
    assert sorted(runs) == [
        ("customer_org", "airflow", "reconciled", CHECK_DATE),
        ("merchant", "airflow", "reconciled", CHECK_DATE),
    ]
