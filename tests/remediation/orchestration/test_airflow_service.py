"""The production tier's Airflow settings, derived from ours, and the errors an operator meets first.
(Starting and stopping the real processes: test_production_airflow.py.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from remediation.errors import DqgovError
from remediation.orchestration import airflow_service as svc
from tests.dbenv import PG_ADMIN_URL

DQGOV = str(Path(sys.executable).with_name("dqgov"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DQGOV_HOME", str(tmp_path))
    monkeypatch.setenv("DQGOV_AIRFLOW_DB_URL", "postgresql://af:pw@db.bank:5432/airflow")
    monkeypatch.setenv("DQGOV_AIRFLOW_API_PORT", "28081")
    monkeypatch.setenv("DQGOV_AIRFLOW_LOG_PORT", "28094")
    monkeypatch.delenv("DQGOV_AIRFLOW_PASSWORD", raising=False)
    return tmp_path


def test_every_airflow_setting_is_derived_from_ours(home: Path) -> None:
    env = svc.airflow_config()
    url = "postgresql+psycopg://af:pw@db.bank:5432/airflow"  # psycopg 3 for the sync and the async engine
    assert (
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == url
    )
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:28081"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:28081/execution/"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "28094"
    assert env["AIRFLOW_HOME"] == str(home / "var" / "airflow")
    secret = env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert len(secret) >= 32 and svc.airflow_config()["AIRFLOW__API_AUTH__JWT_SECRET"] == secret  # made once
    assert (home / "var" / "secrets" / "airflow-jwt.key").stat().st_mode & 0o777 == 0o600
    assert svc.api_password() == svc.api_password() != ""
    svc.write_env_file(env, home / "airflow.env")  # what the systemd units in deploy/ load
    lines = (home / "airflow.env").read_text().splitlines()
    assert f'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="{url}"' in lines and len(lines) == len(env)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "DQGOV_AIRFLOW_DB_URL is not set"),
        ("sqlite:///af.db", "must be a PostgreSQL URL"),
        ("not a url", "is not a database URL"),
    ],
)
def test_the_metadata_url_must_be_postgresql(
    home: Path, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("DQGOV_AIRFLOW_DB_URL", url)
    with pytest.raises(DqgovError, match=says):
        svc.metadata_url()


def test_the_metadata_database_is_created_once() -> None:
    url = sa.make_url(PG_ADMIN_URL).set(database="dqgov_airflow_t_create")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        assert svc.create_database(url) is True
        assert svc.create_database(url) is False
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS "dqgov_airflow_t_create" WITH (FORCE)'))
        admin.dispose()


def test_up_says_which_port_is_taken(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "DQGOV_HOME": str(home), "DQGOV_AIRFLOW_API_PORT": str(port)}
        done = subprocess.run([DQGOV, "airflow", "up"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"dqgov: error: port {port} on 127.0.0.1 is taken by another program: stop it or set "
        "DQGOV_AIRFLOW_API_PORT to a free port"
    )
    assert svc.states() == [svc.ProcessState(name, None) for name in svc.PROCESSES]


def test_down_and_status_when_nothing_runs(home: Path) -> None:
    env = {**os.environ, "DQGOV_HOME": str(home)}
    down = subprocess.run([DQGOV, "airflow", "down"], env=env, capture_output=True, text=True, timeout=120)
    assert (down.returncode, down.stdout.strip()) == (0, "Airflow was not running")
    status = subprocess.run(
        [DQGOV, "airflow", "status"], env=env, capture_output=True, text=True, timeout=120
    )
    assert status.returncode == 1
    assert status.stdout.splitlines() == [
        "api-server     stopped",
        "scheduler      stopped",
        "dag-processor  stopped",
        "API            http://127.0.0.1:28081 does not answer",
    ]


def test_an_airflow_setting_given_explicitly_wins(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    assert svc.airflow_config()["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_the_celery_executor_brings_a_worker_its_result_backend_and_needs_a_broker(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert svc.processes(svc.airflow_config()) == svc.PROCESSES  # LocalExecutor: no worker
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    with pytest.raises(DqgovError, match="AIRFLOW__CELERY__BROKER_URL is not set"):
        svc.processes(svc.airflow_config())
    monkeypatch.setenv("AIRFLOW__CELERY__BROKER_URL", "redis://127.0.0.1:6379/7")
    env = svc.airflow_config()
    assert svc.processes(env) == (*svc.PROCESSES, "celery-worker")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg://af:pw@db.bank:5432/airflow"
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == env["AIRFLOW__CORE__PARALLELISM"] == "4"
    monkeypatch.setenv("AIRFLOW__CELERY__WORKER_CONCURRENCY", "8")  # explicit still wins
    assert svc.airflow_config()["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "8"
    done = subprocess.run(
        [DQGOV, "airflow", "up"],
        env={**os.environ, "AIRFLOW__CELERY__BROKER_URL": ""},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2 and "AIRFLOW__CELERY__BROKER_URL is not set" in done.stderr
