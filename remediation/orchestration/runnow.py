""" "Run now": trigger the check DAGs for a date from the portal, in the background, and report progress.

Two runners:
- embedded (default): `embedded_airflow.run_dag` runs each DAG through Airflow's `dag.test()` in a child
  process, one after the other;
- Airflow's REST API (`DQGOV_AIRFLOW_API_URL`, production): POST a manual DAG run per check DAG with a
  run id of its own and the check date in its conf (no logical date: it never clashes with the scheduled
  run), then poll each until it ends; logged in as DQGOV_AIRFLOW_USER, the token renewed when it expires.
  Then it waits for the dq_snapshot and dq_notify runs Airflow starts on the check DAGs' assets.

One trigger at a time per portal process; the state lives in memory (the runs themselves are recorded by
the DAGs in dq_check_run, which the runs page lists).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from remediation import settings
from remediation.clock import now
from remediation.errors import DqgovError

DagRunner = Callable[[str, dt.date], None]  # runs one DAG for a date; raises on failure
Follower = Callable[[str, dt.datetime], None]  # waits for a DAG's asset-triggered run since a moment; raises
FOLLOW_ON_DAGS = ("dq_snapshot", "dq_notify")  # what Airflow starts when the check DAGs have reconciled
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
    message: str = ""  # the first failure, in English (the log's words)
    problems: tuple[
        tuple[str, str, dict[str, object]], ...
    ] = ()  # (dag id, message code or "error", params and "message": the English) per failure


class Trigger:
    """Runs the check DAGs for one date in a background thread; `state()` says how far it got."""

    def __init__(
        self,
        runner: DagRunner,
        dag_ids: Callable[[], list[str]] = check_dag_ids,
        follower: Follower | None = None,
    ) -> None:
        self._runner = runner
        self._dag_ids = dag_ids
        self._follower = follower
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
            follow_on = FOLLOW_ON_DAGS if self._follower is not None else ()
            dags = tuple((dag_id, "queued") for dag_id in (*self._dag_ids(), *follow_on))
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
        failed, problems = "", []
        started = self.state().started_at or now()
        for dag_id, _ in self.state().dags:
            if dag_id in FOLLOW_ON_DAGS and failed:
                self._set_dag(dag_id, "skipped")  # Airflow starts them only when every check DAG succeeded
                continue
            self._set_dag(dag_id, "running")
            try:
                if dag_id in FOLLOW_ON_DAGS and self._follower is not None:
                    self._follower(dag_id, started)
                else:
                    self._runner(dag_id, day)
            except Exception as exc:  # every DAG gets its turn; each failure is shown
                self._set_dag(dag_id, "failed")
                failed = failed or f"{dag_id}: {exc}"
                code = getattr(exc, "code", None)
                params = {**(getattr(exc, "params", {}) if code else {}), "message": str(exc)}
                problems.append((dag_id, code or "error", params))
            else:
                self._set_dag(dag_id, "success")
        with self._lock:
            self._state = replace(
                self._state,
                status="failed" if failed else "succeeded",
                finished_at=now(),
                message=failed,
                problems=tuple(problems),
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


class AirflowApi:
    """Airflow's REST API as a configured user: the JWT is fetched at first use and again when Airflow
    refuses it (it expires after a day), so no one copies a token by hand."""

    def __init__(self, url: str, user: str, password: str, timeout: float = 60.0) -> None:
        self.url, self.user, self._password, self.timeout = url.rstrip("/"), user, password, timeout
        self._token = ""

    def _send(self, method: str, path: str, body: object, token: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.url + path, method=method, data=json.dumps(body).encode() if body is not None else None
        )
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except OSError as exc:
            raise DqgovError(
                f"cannot reach Airflow at {self.url}: {exc}",
                code="airflow_unreachable",
                url=self.url,
                detail=str(exc),
            ) from None

    def login(self) -> str:
        status, answer = self._send(
            "POST", "/auth/token", {"username": self.user, "password": self._password}, ""
        )
        if status not in (200, 201):
            raise DqgovError(
                f"Airflow refused the login of user {self.user} (HTTP {status})",
                code="airflow_login",
                user=self.user,
            )
        self._token = str(json.loads(answer)["access_token"])
        return self._token

    def call(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        """The JSON answer; raises DqgovError (code airflow_refused) on an HTTP error."""
        status, answer = self._send(method, path, body, self._token or self.login())
        if status == 401:  # expired: log in again, once
            status, answer = self._send(method, path, body, self.login())
        if status >= 400:
            detail = answer.decode(errors="replace")[:300]
            raise DqgovError(
                f"Airflow answered HTTP {status} to {method} {path}: {detail}",
                code="airflow_refused",
                status=status,
                detail=detail,
            )
        result: dict[str, Any] = json.loads(answer or b"{}")
        return result


def run_now_id(day: dt.date, at: dt.datetime) -> str:
    """A run id of its own: "run now" never clashes with the scheduled run of the same day."""
    return f"dqgov_run_now__{day.isoformat()}__{at.strftime('%Y%m%dT%H%M%S%f')}"


def rest_runner(
    api: AirflowApi, poll: float = POLL_SECONDS, timeout: float = REST_TIMEOUT_SECONDS
) -> DagRunner:
    """Each DAG through Airflow's REST API (v2): a manual run for the check date (conf), polled until it ends."""

    def run(dag_id: str, day: dt.date) -> None:
        run_id = run_now_id(day, now())
        body = {"dag_run_id": run_id, "logical_date": None, "conf": {"check_date": day.isoformat()}}
        api.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = str(api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").get("state"))
            if state == "success":
                return
            if state == "failed":
                raise DqgovError(f"Airflow run {run_id} of {dag_id} failed", code="dag_failed", run=run_id)
            time.sleep(poll)
        raise DqgovError(
            f"Airflow run {run_id} of {dag_id} did not finish within {timeout:.0f}s",
            code="dag_timeout",
            run=run_id,
            seconds=int(timeout),
        )

    return run


def rest_follower(
    api: AirflowApi, poll: float = POLL_SECONDS, timeout: float = REST_TIMEOUT_SECONDS
) -> Follower:
    """Wait for the run Airflow starts on the check DAGs' assets after `since`, until it ends."""

    def follow(dag_id: str, since: dt.datetime) -> None:
        query = urllib.parse.urlencode({"run_type": "asset_triggered", "run_after_gte": since.isoformat()})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?{query}").get("dag_runs") or []
            states = {str(r["dag_run_id"]): str(r["state"]) for r in runs}
            if failed := [run for run, state in states.items() if state == "failed"]:
                raise DqgovError(
                    f"Airflow run {failed[0]} of {dag_id} failed", code="dag_failed", run=failed[0]
                )
            if states and all(state == "success" for state in states.values()):
                return
            time.sleep(poll)
        raise DqgovError(
            f"{dag_id} did not run and finish within {timeout:.0f}s",
            code="dag_timeout",
            run="—",
            seconds=int(timeout),
        )

    return follow


def trigger_from_settings(source_url: str) -> Trigger:
    """The portal's trigger: through Airflow's API (and then its snapshot and notify runs), else embedded."""
    api = settings.get("DQGOV_AIRFLOW_API_URL")
    if api:
        from remediation.orchestration.airflow_service import api_password

        client = AirflowApi(api, settings.get("DQGOV_AIRFLOW_USER"), api_password())
        return Trigger(rest_runner(client), follower=rest_follower(client))
    return Trigger(embedded_runner(source_url), checks_then_snapshot)


def checks_then_snapshot() -> list[str]:
    """What an embedded "run now" runs: the check DAGs, then the snapshot DAG, so the day's T+1 figures are
    refreshed (under Airflow the snapshot follows the checks' assets, and the follower watches it)."""
    from remediation.orchestration.dag_defaults import SNAPSHOT_DAG

    return [*check_dag_ids(), SNAPSHOT_DAG]
