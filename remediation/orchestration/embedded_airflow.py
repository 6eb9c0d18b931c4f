"""The embedded tier's Airflow: SQLite metadata under var/airflow, DAGs run in-process with `dag.test()`.

`run_dag` runs each DAG in a child process (Airflow configures logging and its settings at import time,
so it gets an environment of its own) and reports failure as one line pointing at the log.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from remediation import settings
from remediation.clock import TIMEZONE
from remediation.errors import DqgovError

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
DAG_TIMEOUT_SECONDS = 3600


def airflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    home = settings.home() / "var" / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(home))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", TIMEZONE)
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    env["DQGOV_HOME"] = str(settings.home())
    env.update(extra or {})
    return env


def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def ensure_metadata_db(env: dict[str, str], log: Path) -> None:
    marker = Path(env["AIRFLOW_HOME"]) / ".dqgov-migrated"
    if marker.exists():
        return
    with log.open("a") as fh:
        done = subprocess.run([_airflow_bin(), "db", "migrate"], env=env, stdout=fh, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise DqgovError(f"airflow db migrate failed; see {log}", code="airflow_migrate_failed", log=str(log))
    marker.touch()


def run_dag(dag_id: str, logical_date: dt.date, conf: dict[str, str], env: dict[str, str], log: Path) -> None:
    """Run one DAG for one logical date through Airflow (`dag.test()`); raise if any task failed."""
    cmd = [sys.executable, "-m", "remediation.orchestration.dagrun", dag_id, logical_date.isoformat()]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    with log.open("a") as fh:
        try:
            done = subprocess.run(
                cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=DAG_TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired:
            raise DqgovError(
                f"DAG {dag_id} did not finish within {DAG_TIMEOUT_SECONDS}s; see {log}",
                code="embedded_dag_timeout",
                seconds=DAG_TIMEOUT_SECONDS,
                log=str(log),
            ) from None
    if done.returncode != 0:
        raise DqgovError(
            f"DAG {dag_id} failed for {logical_date}; see {log}",
            code="embedded_dag_failed",
            day=logical_date.isoformat(),
            log=str(log),
        )
