""" "Run now" from the runs page: the check DAGs run in the background (embedded) or through Airflow's API."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from remediation.errors import DqgovError
from remediation.orchestration.runnow import AirflowApi, Trigger, check_dag_ids, rest_runner
from tests.factories import CHECK_DATE
from tests.portal.conftest import Bank, FakeRunner, make_app, serve
from tests.servers import HttpPeer, JsonHandler


def test_run_now_triggers_each_check_dag_and_shows_progress(bank: Bank) -> None:
    runner = FakeRunner()
    trigger = Trigger(runner)
    with serve(make_app(bank, trigger=trigger)) as url:
        from tests.portal.conftest import Client

        office = Client(url)
        office.login("D001")
        office.get("/office/runs")
        answer = office.post("/office/runs/now", {"day": "2026-11-19"})
        assert answer.status == 303 and answer.headers["location"] == "/office/runs?msg=run_started"
        assert trigger.wait(10).status == "succeeded"
        page = office.get("/office/runs").text
        assert "已完成" in page and "dq_merchant</code> 成功" in page and "已开始运行检查" not in page
        assert runner.calls == [(dag, dt.date(2026, 11, 19)) for dag in check_dag_ids()]
        manager = Client(url)
        manager.login("M101")
        assert manager.post("/office/runs/now").status == 403


def test_a_failed_dag_is_reported_and_the_others_still_run() -> None:
    ran: list[str] = []

    def runner(dag_id: str, day: dt.date) -> None:
        ran.append(dag_id)
        if dag_id == "dq_customer_org":
            raise RuntimeError(
                "DAG dq_customer_org failed for 2026-11-20; see var/airflow/portal-run-now.log"
            )

    trigger = Trigger(runner, lambda: ["dq_customer_org", "dq_merchant"])
    assert trigger.start(CHECK_DATE, "D001")
    state = trigger.wait(10)
    assert state.status == "failed" and "portal-run-now.log" in state.message
    assert state.dags == (("dq_customer_org", "failed"), ("dq_merchant", "success")) and ran == [
        "dq_customer_org",
        "dq_merchant",
    ]


def test_one_trigger_at_a_time() -> None:
    release = threading.Event()
    trigger = Trigger(lambda dag, day: release.wait(10), lambda: ["dq_merchant"])
    assert trigger.start(CHECK_DATE, "D001")
    assert not trigger.start(CHECK_DATE, "D001")
    release.set()
    assert trigger.wait(10).status == "succeeded"


def test_the_rest_runner_logs_in_posts_its_own_run_and_polls_it_until_it_ends() -> None:
    """Against a stand-in for Airflow's API (the real one: tests/remediation/orchestration/test_production_airflow.py)."""
    seen: list[tuple[str, str, Any]] = []
    states = iter(["queued", "running", "success"])
    tokens = iter(["expired", "fresh"])

    class Airflow(JsonHandler):
        def do_POST(self) -> None:
            body = self.json_body()
            seen.append(("POST", self.path, body))
            if self.path == "/auth/token":
                ok = body == {"username": "dqgov", "password": "pw"}
                self.answer({"access_token": next(tokens)} if ok else {}, 201 if ok else 401)
            elif self.headers["Authorization"] != "Bearer fresh":
                self.answer({"detail": "Invalid JWT"}, 401)  # the day-old token: log in again
            else:
                self.answer({"dag_run_id": body["dag_run_id"], "state": "queued"})

        def do_GET(self) -> None:
            seen.append(("GET", self.path, None))
            self.answer({"state": next(states)})

    server = HttpPeer(Airflow)
    server.start()
    url = f"{server.base_url}/"
    try:
        rest_runner(AirflowApi(url, "dqgov", "pw"), poll=0.01)("dq_merchant", CHECK_DATE)
        with pytest.raises(DqgovError) as refused:
            AirflowApi(url, "dqgov", "wrong").login()
    finally:
        server.stop()
    posted = [s for s in seen if s[1] == "/api/v2/dags/dq_merchant/dagRuns"]
    assert len(posted) == 2  # refused with the expired token, accepted with the fresh one
    run_id = posted[-1][2]["dag_run_id"]
    assert run_id.startswith("dqgov_run_now__2026-11-20__")  # never the scheduled run's id or logical date
    assert posted[-1][2] == {"dag_run_id": run_id, "logical_date": None, "conf": {"check_date": "2026-11-20"}}
    assert [s[1] for s in seen if s[0] == "GET"] == [f"/api/v2/dags/dq_merchant/dagRuns/{run_id}"] * 3
    assert refused.value.code == "airflow_login"


def test_each_failed_dag_is_shown_in_the_users_language(bank: Bank) -> None:
    def runner(dag_id: str, day: dt.date) -> None:
        raise DqgovError("Airflow run r1 failed", code="dag_failed", run=f"r-{dag_id}")

    trigger = Trigger(runner, lambda: ["dq_customer_org", "dq_merchant"])
    with serve(make_app(bank, trigger=trigger)) as url:
        from tests.portal.conftest import Client

        office = Client(url)
        office.login("D001")
        office.post("/office/runs/now", {"day": "2026-11-19"})
        assert trigger.wait(10).status == "failed"
        page = office.get("/office/runs").text
    for dag in ("dq_customer_org", "dq_merchant"):
        assert (
            f"<code>{dag}</code>: 在 Airflow 中运行失败（运行 r-{dag}）：请在 Airflow 界面查看任务日志。"
            in page
        )


def test_the_follow_on_dags_are_waited_for_and_skipped_after_a_failed_check() -> None:
    followed: list[str] = []

    def follow(dag_id: str, since: dt.datetime) -> None:
        followed.append(dag_id)

    def check(dag_id: str, day: dt.date) -> None:
        if fail_check:
            raise DqgovError("Airflow run r1 failed", code="dag_failed", run="r1")

    fail_check = False
    trigger = Trigger(check, lambda: ["dq_merchant"], follower=follow)
    assert trigger.start(CHECK_DATE, "D001")
    assert trigger.wait(10).dags == (
        ("dq_merchant", "success"),
        ("dq_snapshot", "success"),
        ("dq_notify", "success"),
    )
    assert followed == ["dq_snapshot", "dq_notify"]
    fail_check = True
    assert trigger.start(CHECK_DATE, "D001")
    assert trigger.wait(10).dags == (
        ("dq_merchant", "failed"),
        ("dq_snapshot", "skipped"),
        ("dq_notify", "skipped"),
    )
