"""The production tier's Airflow: API server, scheduler and DAG processor (LocalExecutor) on PostgreSQL metadata;
with AIRFLOW__CORE__EXECUTOR=CeleryExecutor (and AIRFLOW__CELERY__BROKER_URL) also a Celery worker, and
more workers on other hosts (docs/operations.md, "Scale-out with Celery").

Every Airflow setting is derived from ours (`airflow_config`): the metadata URL (sync and async, both through
psycopg 3), ports on 127.0.0.1, the JWT secret and the API user's password (generated once under
`var/secrets/`), the DAGs folder, our store and source URLs; DAGs are unpaused on creation. `up` starts the
three processes in sessions of their own (PIDs in `var/airflow/run/`, logs in `var/airflow/logs/`), `down`
stops each whole session, so no worker is left behind. Both are idempotent. `prepare` also writes the
environment to `var/airflow/airflow.env` for the systemd units in `deploy/`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from remediation import settings
from remediation.clock import TIMEZONE
from remediation.errors import DqgovError
from remediation.orchestration.embedded_airflow import DAGS_FOLDER

PROCESSES = ("api-server", "scheduler", "dag-processor")
CELERY_WORKER = "celery-worker"  # started too when the executor is the CeleryExecutor (a scale-out)
COMMANDS = {CELERY_WORKER: ["celery", "worker"]}
START_TIMEOUT_SECONDS = 300.0
STOP_TIMEOUT_SECONDS = 60.0


def home() -> Path:
    return settings.home() / "var" / "airflow"


def _secret_file(name: str, make: str) -> str:
    path = settings.home() / "var" / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make + "\n")
    return path.read_text().strip()


def api_password() -> str:
    """The Airflow API user's password: DQGOV_AIRFLOW_PASSWORD, else one generated once under var/secrets/."""
    return settings.get("DQGOV_AIRFLOW_PASSWORD") or _secret_file(
        "airflow.password", secrets.token_urlsafe(18)
    )


def metadata_url() -> sa.URL:
    raw = settings.get("DQGOV_AIRFLOW_DB_URL")
    if not raw:
        raise DqgovError(
            "DQGOV_AIRFLOW_DB_URL is not set: give Airflow a PostgreSQL database, e.g. "
            "postgresql+psycopg://airflow:secret@127.0.0.1:5432/airflow"
        )
    try:
        url = sa.make_url(raw)
    except sa.exc.ArgumentError:
        raise DqgovError(f"DQGOV_AIRFLOW_DB_URL={raw!r} is not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise DqgovError(f"DQGOV_AIRFLOW_DB_URL must be a PostgreSQL URL, not {url.get_backend_name()}")
    return url.set(
        drivername="postgresql+psycopg"
    )  # Airflow 3 builds an async engine too: psycopg 3 does both


def api_url() -> str:
    return f"http://127.0.0.1:{settings.port_of('DQGOV_AIRFLOW_API_PORT')}"


def airflow_config() -> dict[str, str]:
    """The environment of every Airflow process of the production tier: Airflow's settings derived from ours,
    except those set explicitly as `AIRFLOW__…` variables."""
    url = metadata_url().render_as_string(hide_password=False)
    api_port = settings.port_of("DQGOV_AIRFLOW_API_PORT")
    log_port = settings.port_of("DQGOV_AIRFLOW_LOG_PORT")
    passwords = home() / "passwords.json"
    env = {
        "AIRFLOW_HOME": str(home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url()}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{settings.get('DQGOV_AIRFLOW_USER')}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": api_url(),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret_file("airflow-jwt.key", secrets.token_urlsafe(32)),
        "AIRFLOW__CORE__PARALLELISM": "4",  # each task imports GX: a few at a time on a small server
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",  # the default 5 s fails tasks on a loaded machine
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home() / "logs" / "tasks"),
        "GX_ANALYTICS_ENABLED": "false",
        "DQGOV_HOME": str(settings.home()),
        "DQGOV_STORE_URL": settings.get("DQGOV_STORE_URL"),
        "DQGOV_SOURCE_URL": settings.get("DQGOV_SOURCE_URL"),
    }
    # an Airflow setting given explicitly wins (e.g. AIRFLOW__CORE__EXECUTOR=CeleryExecutor for a scale-out)
    explicit = {key: value for key, value in os.environ.items() if key.startswith("AIRFLOW__")}
    if celery(explicit.get("AIRFLOW__CORE__EXECUTOR", "")):
        # task results in the metadata database; a few tasks at a time per worker, as LocalExecutor runs
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = f"db+{url}"
        env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = env["AIRFLOW__CORE__PARALLELISM"]
    env.update(explicit)
    return env


def celery(executor: str) -> bool:
    return executor.rsplit(".", 1)[-1] == "CeleryExecutor"


def processes(env: dict[str, str]) -> tuple[str, ...]:
    """The processes `up` starts: the three, and a Celery worker when the executor is the CeleryExecutor."""
    if not celery(env["AIRFLOW__CORE__EXECUTOR"]):
        return PROCESSES
    if not env.get("AIRFLOW__CELERY__BROKER_URL"):
        raise DqgovError(
            "AIRFLOW__CORE__EXECUTOR is CeleryExecutor but AIRFLOW__CELERY__BROKER_URL is not set: give the "
            "Celery broker, e.g. redis://127.0.0.1:6379/0 or amqp://user:secret@127.0.0.1:5672/airflow"
        )
    return (*PROCESSES, CELERY_WORKER)


def _airflow(args: list[str], env: dict[str, str], log: Path, timeout: float = 900) -> None:
    with log.open("a") as fh:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), *args],
            env={**os.environ, **env},
            stdout=fh,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    if done.returncode != 0:
        raise DqgovError(f"airflow {' '.join(args)} failed; see {log}")


def create_database(url: sa.URL) -> bool:
    """Create the metadata database when it is missing; True when it was created."""
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    except sa.exc.OperationalError as exc:
        raise DqgovError(
            f"cannot reach Airflow's metadata server {url.host}:{url.port}: {exc.orig}"
        ) from None
    finally:
        admin.dispose()
    return not exists


def prepare() -> dict[str, str]:
    """Metadata database created and migrated, secrets and the API user's password in place; the environment."""
    env = airflow_config()
    for folder in (home() / "logs", home() / "run"):
        folder.mkdir(parents=True, exist_ok=True)
    passwords = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    body = json.dumps({settings.get("DQGOV_AIRFLOW_USER"): api_password()}) + "\n"
    if not passwords.exists() or passwords.read_text() != body:
        passwords.write_text(body)
        passwords.chmod(0o600)
    create_database(metadata_url())
    _airflow(["db", "migrate"], env, home() / "logs" / "migrate.log")
    write_env_file(env, home() / "airflow.env")
    return env


def write_env_file(env: dict[str, str], path: Path) -> None:
    """The environment as a systemd EnvironmentFile (deploy/*.service load it); readable by its owner only."""
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in env.values())
    text = "".join(f'{key}="{value}"\n' for key, value in zip(env, quoted, strict=True))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


@dataclass(frozen=True)
class ProcessState:
    name: str
    pid: int | None  # None: not running

    @property
    def running(self) -> bool:
        return self.pid is not None


def _pid_file(name: str) -> Path:
    return home() / "run" / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # a Celery worker retitles itself: "[celeryd: celery@host:MainProcess] … (celery worker)"
    ours = b"airflow" in cmdline or b"celery" in cmdline
    return ours and stat.rsplit(")", 1)[1].split()[0] != "Z"


def states(names: tuple[str, ...] | None = None) -> list[ProcessState]:
    """The state of each process (default: the three, and the Celery worker if one was started)."""
    if names is None:
        names = (*PROCESSES, CELERY_WORKER) if _pid_file(CELERY_WORKER).exists() else PROCESSES
    found = []
    for name in names:
        path = _pid_file(name)
        pid = int(path.read_text()) if path.exists() else None
        found.append(ProcessState(name, pid if pid is not None and _alive(pid) else None))
    return found


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _check_ports() -> None:
    for name in ("DQGOV_AIRFLOW_API_PORT", "DQGOV_AIRFLOW_LOG_PORT"):
        port = settings.port_of(name)
        if _port_taken(port):
            raise DqgovError(
                f"port {port} on 127.0.0.1 is taken by another program: stop it or set {name} to a free port"
            )


def healthy(timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url()}/api/v2/monitor/health", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def up() -> list[ProcessState]:
    """Start whatever of the processes is not running; wait until the API server answers."""
    names = processes(airflow_config())
    if all(s.running for s in states(names)):
        return states(names)
    stop()  # a half-running tier (one process died): start them all afresh
    _check_ports()
    env = prepare()
    children: dict[str, subprocess.Popen[bytes]] = {}
    for name in names:
        log = (home() / "logs" / f"{name}.log").open("a")
        # unbuffered: what a process said before it died is in its log, also when `stop` ends it
        children[name] = child = subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), *COMMANDS.get(name, [name])],
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=home(),
        )
        log.close()
        _pid_file(name).write_text(str(child.pid))
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not healthy():
        # asked of the children themselves: their titles in /proc change while they start (a Celery worker)
        dead = [name for name, child in children.items() if child.poll() is not None]
        if dead or time.monotonic() > deadline:
            code = children[dead[0]].returncode if dead else None
            stop()
            status = "" if code is None else f" with status {code}" if code >= 0 else f" on signal {-code}"
            why = f"airflow {dead[0]} exited{status}" if dead else "the API server did not answer in time"
            raise DqgovError(f"{why}; see {home() / 'logs'}")
        time.sleep(1.0)
    return states(names)


def _session_members(sessions: set[int]) -> list[int]:
    """Every live process in these sessions (a task's process has a process group of its own, not a session)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) in sessions:  # state, ppid, pgrp, session
            members.append(int(entry.name))
    return members


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop() -> list[str]:
    """Stop the processes with everything they started (each runs in a session of its own)."""
    stopped, sessions = [], set()
    for name in (*PROCESSES, CELERY_WORKER):
        path = _pid_file(name)
        if not path.exists():
            continue
        pid = int(path.read_text())
        if _alive(pid):
            sessions.add(pid)
            stopped.append(name)
        path.unlink()
    _signal(_session_members(sessions), signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while _session_members(sessions) and time.monotonic() < deadline:
        time.sleep(0.5)
    _signal(_session_members(sessions), signal.SIGKILL)
    return stopped


def leftovers() -> list[int]:
    """Processes still running with this tier's Airflow home, or in it (none after `stop`). The working
    folder counts too: a Celery worker's new title overwrites the environment /proc shows."""
    mine = f"AIRFLOW_HOME={home()}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                inside = os.readlink(entry / "cwd") == str(home())
                if inside or mine in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
