"""What operators' tools see: /healthz for load balancers (the store and the source really probed, quickly),
and /metrics in Prometheus text format, with values that match the bank."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from remediation.store.engines import open_store
from remediation.store.models import CheckRun
from remediation.store.workflow_models import OutboxMessage
from tests.dbenv import Databases, _pg_admin
from tests.factories import CHECK_DATE, build_source, merchant_row
from tests.portal.conftest import Bank, make_app, serve


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers.items())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers.items())


def health(url: str) -> tuple[int, dict[str, str], float]:
    started = time.monotonic()
    status, body, _ = fetch(url + "/healthz")
    return status, json.loads(body), time.monotonic() - started


@pytest.fixture
def small_bank(databases: Databases, tmp_path: Path) -> Bank:
    """A migrated, empty store and a one-merchant source, on the backend under test."""
    source_url = databases.new("source")
    build_source(source_url, [merchant_row(1)], []).dispose()
    return Bank(source_url, open_store(databases.new("store")), tmp_path)


def test_healthz_is_ok_then_down_once_the_store_database_is_dropped(small_bank: Bank) -> None:
    with serve(make_app(small_bank)) as url:
        status, body, _ = health(url)
        assert (status, body) == (200, {"status": "ok", "store": "ok", "source": "ok"})
        url_of_store = small_bank.store.url
        if url_of_store.get_backend_name() == "postgresql":
            with _pg_admin().connect() as admin:
                admin.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": url_of_store.database},
                )
                admin.execute(sa.text(f'DROP DATABASE "{url_of_store.database}"'))
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(url_of_store.database) + suffix).unlink(missing_ok=True)
        status, body, seconds = health(url)
        assert status == 503 and body["status"] == "down" and body["store"] == "unreachable", body
        assert seconds < 10
        if url_of_store.get_backend_name() == "sqlite":
            # probing did not create an empty store (the app's pooled connections still read the deleted file)
            assert not Path(str(url_of_store.database)).exists()
        else:
            status, text, _ = fetch(url + "/metrics")
            assert status == 200 and "dqgov_up 0.0" in text


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung database server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_healthz_is_degraded_when_the_source_is_unreachable_and_never_hangs(
    small_bank: Bank, silent_server: int
) -> None:
    missing = sa.make_url(small_bank.source_url).set(database="dqgov_t_no_such_source")
    if missing.get_backend_name() == "sqlite":
        missing = missing.set(database=str(small_bank.folder / "no-such-source.sqlite"))
    hung = f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/source"
    for source in (missing.render_as_string(hide_password=False), hung):
        app = make_app(Bank(source, small_bank.store, small_bank.folder))
        with serve(app) as url:
            status, body, seconds = health(url)
        assert (status, body) == (200, {"status": "degraded", "store": "ok", "source": "unreachable"}), source
        assert seconds < 10, source


def metric_values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_match_the_bank(any_bank: Bank) -> None:
    now = dt.datetime.now(dt.UTC)
    outbox = {"subject": "s", "body": "b", "attempts": 0, "next_attempt_at": now, "created_at": now}
    with any_bank.store.begin() as conn:
        conn.execute(
            sa.insert(OutboxMessage),
            [
                {**outbox, "dedupe_key": "a", "channel": "email", "recipient": "M101", "status": "pending"},
                {**outbox, "dedupe_key": "b", "channel": "email", "recipient": "M102", "status": "pending"},
                {**outbox, "dedupe_key": "c", "channel": "wecom", "recipient": "M101", "status": "dead"},
                {**outbox, "dedupe_key": "d", "channel": "inbox", "recipient": "M101", "status": "sent"},
            ],
        )
        conn.execute(
            sa.insert(CheckRun).values(
                table_name="merchant",
                logical_date=CHECK_DATE,
                trigger="airflow",
                status="failed",
                source="test",
                started_at=now - dt.timedelta(seconds=90),
                finished_at=now,
                error="volume guard: merchant records in scope fell from 7 (run 1) to 2 (-71%)",
                guard='{"previous": 7, "current": 2}',
            )
        )
    with serve(make_app(any_bank)) as url:
        status, text, headers = fetch(url + "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=")
    values = metric_values(text)

    def value(name: str, **labels: str) -> float:
        return values[(name, frozenset(labels.items()))]

    assert value("dqgov_up") == 1
    assert value("dqgov_check_runs", table="merchant", status="reconciled") == 1
    assert value("dqgov_check_runs", table="merchant", status="failed") == 1
    assert value("dqgov_check_runs", table="customer_org", status="reconciled") == 1
    assert value("dqgov_check_runs", table="customer_org", status="superseded") == 0
    # 张经理's 1, 2, 6, 7, 王经理's 4 and 吴经理's 5; the customer's phone
    assert value("dqgov_todos", table="merchant", status="open") == 6
    assert value("dqgov_todos", table="customer_org", status="open") == 1
    assert value("dqgov_todos", table="merchant", status="fixed") == 0
    assert value("dqgov_outbox_pending", channel="email") == 2
    assert value("dqgov_outbox_pending", channel="wecom") == 0
    assert value("dqgov_outbox_dead", channel="wecom") == 1
    assert value("dqgov_outbox_oldest_pending_age_seconds", channel="email") >= 0
    assert value("dqgov_volume_guard_trips_total", table="merchant") == 1
    assert value("dqgov_volume_guard_trips_total", table="customer_org") == 0
    assert value("dqgov_check_run_duration_seconds_count", table="merchant") == 2
    assert value("dqgov_check_run_duration_seconds_bucket", table="merchant", le="60.0") == 1  # the check
    assert value("dqgov_check_run_duration_seconds_bucket", table="merchant", le="120.0") == 2
    assert value("dqgov_check_last_run_duration_seconds", table="merchant") == pytest.approx(90, abs=1)
    assert 0 <= value("dqgov_check_last_success_age_seconds", table="customer_org") < 86400
    assert "M101" not in text and "张" not in text  # counts only, no personal data


def test_metrics_answer_only_local_clients_or_the_token(bank: Bank) -> None:
    with serve(make_app(bank)) as url:
        assert fetch(url + "/metrics")[0] == 200
        status, body, headers = fetch(url + "/metrics", {"X-Forwarded-For": "10.1.2.3"})  # via a proxy
        assert status == 403 and "text/html" in headers["content-type"] and "禁止访问" in body
    with serve(make_app(bank, metrics_token="s3cret-token")) as url:
        assert fetch(url + "/metrics")[0] == 403
        assert fetch(url + "/metrics", {"Authorization": "Bearer wrong"})[0] == 403
        assert (
            fetch(url + "/metrics", {"Authorization": "Bearer s3cret-token", "X-Forwarded-For": "10.1.2.3"})[
                0
            ]
            == 200
        )


def test_healthz_needs_no_login_and_shows_no_personal_data(bank: Bank) -> None:
    with serve(make_app(bank)) as url:
        status, body, _ = health(url)
    assert status == 200 and set(body) == {"status", "store", "source"}
