""" "Run now": trigger the check DAGs for a date from the portal, in the background, and report progress.

Two runners:
- embedded (default): `embedded_airflow.run_dag` runs each DAG through Airflow's `dag.test()` in a child
  process, one after the other;
- Airflow's REST API (`DQGOV_AIRFLOW_API_URL`, production): POST a DAG run per check DAG, then poll
  each until it ends.

One trigger at a time per portal process; the state lives in memory (the runs themselves are recorded by
the DAGs in dq_check_run, which the runs page lists).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from remediation import settings
from remediation.clock import now

DagRunner = Callable[[str, dt.date], None]  # runs one DAG for a date; raises on failure
POLL_SECONDS = 5.0
REST_TIMEOUT_SECONDS = 3600


def check_dag_ids() -> list[str]:
    from expectations.rulebook import load_suites
    from remediation.orchestration.dag_defaults import check_dag_id

    return [check_dag_id(suite.table) for suite in load_suites()]


@dataclass(frozen=True)
class TriggerState:
    status: str = "idle"  # idle | running | succeeded | failed
    day: dt.date | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    requested_by: str | None = None
    dags: tuple[tuple[str, str], ...] = field(
        default_factory=tuple
    )  # (dag id, queued|running|success|failed)
    message: str = ""


class Trigger:
    """Runs the check DAGs for one date in a background thread; `state()` says how far it got."""

    def __init__(self, runner: DagRunner, dag_ids: Callable[[], list[str]] = check_dag_ids) -> None:
        self._runner = runner
        self._dag_ids = dag_ids
        self._lock = threading.Lock()
        self._state = TriggerState()
        self._thread: threading.Thread | None = None

    def state(self) -> TriggerState:
        with self._lock:
            return self._state

    def start(self, day: dt.date, requested_by: str) -> bool:
        """Start a run for `day`; False when one is running already."""
        with self._lock:
            if self._state.status == "running":
                return False
            dags = tuple((dag_id, "queued") for dag_id in self._dag_ids())
            self._state = TriggerState("running", day, now(), None, requested_by, dags)
            self._thread = threading.Thread(target=self._run, args=(day,), name="dqgov-run-now", daemon=True)
            self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> TriggerState:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state()

    def _set_dag(self, dag_id: str, status: str) -> None:
        with self._lock:
            dags = tuple((d, status if d == dag_id else s) for d, s in self._state.dags)
            self._state = replace(self._state, dags=dags)

    def _run(self, day: dt.date) -> None:
        failed = ""
        for dag_id, _ in self.state().dags:
            self._set_dag(dag_id, "running")
            try:
                self._runner(dag_id, day)
            except Exception as exc:
                self._set_dag(dag_id, "failed")
                failed = failed or f"{dag_id}: {exc}"
            else:
                self._set_dag(dag_id, "success")
        with self._lock:
            self._state = replace(
                self._state,
                status="failed" if failed else "succeeded",
                finished_at=now(),
                message=failed,
            )


def embedded_runner(source_url: str) -> DagRunner:
    """Each DAG through the embedded tier's Airflow (`dag.test()` in a child process)."""

    def run(dag_id: str, day: dt.date) -> None:
        from remediation.orchestration.embedded_airflow import airflow_env, ensure_metadata_db, run_dag

        env = airflow_env()
        log = settings.home() / "var" / "airflow" / "portal-run-now.log"
        ensure_metadata_db(env, log)
        run_dag(dag_id, day, {"source_url": source_url}, env, log)

    return run


def rest_runner(api_url: str, token: str, poll: float = POLL_SECONDS) -> DagRunner:
    """Each DAG through Airflow's REST API (v2): trigger a run for the date, then poll until it ends."""
    base = api_url.rstrip("/")

    def call(method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, object] = json.loads(response.read().decode() or "{}")
            return answer

    def run(dag_id: str, day: dt.date) -> None:
        logical = f"{day.isoformat()}T06:00:00+08:00"
        started = call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": logical, "conf": {}})
        run_id = str(started.get("dag_run_id"))
        deadline = time.monotonic() + REST_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            state = str(call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").get("state"))
            if state == "success":
                return
            if state == "failed":
                raise RuntimeError(f"Airflow run {run_id} failed")
            time.sleep(poll)
        raise RuntimeError(f"Airflow run {run_id} did not finish within {REST_TIMEOUT_SECONDS}s")

    return run


def runner_from_settings(source_url: str) -> DagRunner:
    api = settings.get("DQGOV_AIRFLOW_API_URL")
    if api:
        return rest_runner(api, settings.get("DQGOV_AIRFLOW_API_TOKEN"))
    return embedded_runner(source_url)
