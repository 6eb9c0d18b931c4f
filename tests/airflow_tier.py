"""The production tier's Airflow as an operator runs it (`make airflow-up` / `airflow-down`) in a home of its own,
and its REST API: the harness of the tests that stand the tier up (LocalExecutor or CeleryExecutor)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from remediation.orchestration.runnow import AirflowApi

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 900.0  # a loaded 2-core machine: each task imports GX and Airflow's SDK


class AirflowTier:
    """`make airflow-up` in a home of its own, with our settings in the environment; its API as admin."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def make(self, target: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "-s", "-C", str(ROOT), target],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=1200,
        )

    def api(self) -> AirflowApi:
        password = (Path(self.env["DQGOV_HOME"]) / "var" / "secrets" / "airflow.password").read_text().strip()
        return AirflowApi(f"http://127.0.0.1:{self.env['DQGOV_AIRFLOW_API_PORT']}", "dqgov", password)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        answer = self.api().call("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=run_after")
        runs: list[dict[str, Any]] = answer["dag_runs"]
        return runs

    def wait_for(self, dag_id: str, done: int, **match: str) -> list[dict[str, Any]]:
        """Wait until `done` runs of the DAG (with these fields) have succeeded; fail at once on a failed one."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            runs = [r for r in self.runs(dag_id) if all(r[k] == v for k, v in match.items())]
            failed = [r["dag_run_id"] for r in runs if r["state"] == "failed"]
            assert not failed, f"{dag_id} failed: {failed}; logs in {self.env['DQGOV_HOME']}/var/airflow/logs"
            succeeded = [r for r in runs if r["state"] == "success"]
            if len(succeeded) >= done:
                return succeeded
            assert time.monotonic() < deadline, f"{dag_id}: {[(r['dag_run_id'], r['state']) for r in runs]}"
            time.sleep(3)
