"""Faults with real processes: a paused check that resumes late, two checks at once, a reconcile that must wait
for the table's lock, and a check killed with SIGKILL. On PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import suite_for
from remediation.checks.reconcile.run import reconcile_run
from remediation.checks.routing import sync_org
from remediation.checks.staging import sync_rules
from remediation.checks.sweep import lease, sweep_runs
from remediation.lifecycle import Lifecycle
from remediation.store.models import CheckRun, RuleRecord, RunStatus, Staff, TodoEvent
from remediation.store.tablelock import lock_key
from tests.checkbank import PHONE, Bank, key
from tests.factories import CHECK_DATE, merchant_row

ROOT = Path(__file__).resolve().parents[3]
DQGOV = str(Path(sys.executable).with_name("dqgov"))
pytestmark = pytest.mark.slow


def env(bank: Bank, tmp_path: Path) -> dict[str, str]:
    url = bank.store.url.render_as_string(hide_password=False)
    return {**os.environ, "DQGOV_STORE_URL": url, "DQGOV_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}


def check(bank: Bank, tmp_path: Path, day: dt.date = CHECK_DATE) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [DQGOV, "check", "--source-url", bank.source_url, "--check-date", day.isoformat()],
        env=env(bank, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stepper(bank: Bank, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.remediation.checks.stepper", *args],
        cwd=ROOT,
        env=env(bank, tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen[str], timeout: float = 300) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return out


@pytest.fixture
def bank(databases: Any) -> Bank:
    return Bank(databases)


def test_a_paused_check_that_resumes_after_another_completed_closes_nothing(
    bank: Bank, tmp_path: Path
) -> None:
    bank.run(CHECK_DATE - dt.timedelta(days=1))
    url = bank.store.url.render_as_string(hide_password=False)
    paused = stepper(bank, tmp_path, "validate", bank.source_url, url, "merchant", CHECK_DATE.isoformat())
    assert paused.stdout is not None and paused.stdin is not None
    line = paused.stdout.readline()
    assert line.startswith("validated "), paused.stderr.read() if paused.stderr else line
    finished(check(bank, tmp_path))  # the other check of the same date runs from start to end meanwhile
    after_other = bank.todos()
    paused.stdin.write("\n")
    paused.stdin.flush()
    assert finished(paused).strip() == "superseded fixed=0"
    assert bank.todos() == after_other
    assert {v for k, v in bank.statuses().items() if k.endswith(PHONE)} == {"open"}


@contextmanager
def table_lock_held(bank: Bank, table: str) -> Iterator[None]:
    """Hold the table's reconcile lock from this process, as another reconcile would."""
    if bank.store.dialect.name == "postgresql":
        with bank.store.connect() as conn, conn.begin():
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(table)})
            yield
        return
    raw = sqlite3.connect(str(bank.store.url.database), isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        raw.execute("COMMIT")
        raw.close()


def test_a_reconcile_waits_while_another_holds_the_table(bank: Bank, tmp_path: Path) -> None:
    run_id = bank.validate()
    url = bank.store.url.render_as_string(hide_password=False)
    with table_lock_held(bank, "merchant"):
        waiting = stepper(bank, tmp_path, "reconcile", url, str(run_id))
        time.sleep(4)
        assert waiting.poll() is None  # still waiting for the lock
        assert bank.run_row(run_id).status == "validated"
    assert finished(waiting).startswith("reconciled")
    assert bank.run_row(run_id).status == "reconciled"


def test_two_checks_at_once_leave_the_todos_of_one(bank: Bank, tmp_path: Path) -> None:
    first, second = check(bank, tmp_path), check(bank, tmp_path)
    finished(first)
    finished(second)
    statuses = bank.statuses()
    assert {k for k, v in statuses.items() if k.endswith(PHONE)} == {
        f"{key(i)}:{PHONE}" for i in range(1, 11)
    }
    assert set(statuses.values()) == {"open"}
    with bank.store.connect() as conn:
        opened = conn.scalar(sa.select(sa.func.count()).where(TodoEvent.event == "opened"))
        runs = conn.execute(sa.select(CheckRun.table_name, CheckRun.status)).all()
    assert opened == len(statuses)  # every to-do opened once
    assert sorted(s for t, s in runs if t == "merchant") in (
        ["reconciled", "reconciled"],
        ["reconciled", "superseded"],
    )


def test_a_killed_check_is_swept_to_abandoned_and_the_next_one_applies(bank: Bank, tmp_path: Path) -> None:
    bank.add_merchants([merchant_row(i) for i in range(100, 1100)])
    proc = check(bank, tmp_path)
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline:
        with bank.store.connect() as conn:
            if sa.inspect(conn).has_table("dq_check_run"):
                victim = conn.scalar(
                    sa.select(CheckRun.id).where(
                        CheckRun.status == RunStatus.VALIDATING, CheckRun.owner.endswith(f":{proc.pid}")
                    )
                )
        time.sleep(0.05)
    assert victim is not None, "the check never started validating"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert bank.run_row(victim).status == "validating"  # left half-alive …
    swept = subprocess.run([DQGOV, "run", "sweep"], env=env(bank, tmp_path), capture_output=True, text=True)
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.strip() == f"abandoned: {victim}"  # … until the sweep tells the truth
    row = bank.run_row(victim)
    assert row.status == "abandoned" and f":{proc.pid} stopped while validating" in row.error
    finished(check(bank, tmp_path))
    assert set(bank.statuses().values()) == {"open"} and len(bank.statuses()) == 10


def test_a_validated_run_nobody_reconciled_is_abandoned_after_its_lease(bank: Bank) -> None:
    run_id = bank.validate()
    assert sweep_runs(bank.store) == []  # within its lease: Airflow's reconcile task may still come
    later = dt.datetime.now(dt.UTC) + lease() + dt.timedelta(minutes=1)
    assert sweep_runs(bank.store, at=later) == [run_id]
    assert reconcile_run(bank.store, run_id, Lifecycle.in_force()).status == "abandoned"
    assert bank.todos() == {}


def at_once(steps: list[Callable[[], object]]) -> list[BaseException]:
    """Run the steps in threads of their own, released together; what they raised."""
    start = threading.Barrier(len(steps))
    errors: list[BaseException] = []

    def race(step: Callable[[], object]) -> None:
        start.wait()
        try:
            step()
        except BaseException as exc:  # reported by the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_checks_starting_at_once_mirror_the_org_and_the_rules_one_after_the_other(bank: Bank) -> None:
    """Each start replaces the org mirror and the suite's rules (delete, then insert): several at once must
    not collide on the keys the first one inserts."""
    suite = suite_for("merchant")
    for _ in range(3):
        errors = at_once(
            [lambda: sync_org(bank.source, bank.store), lambda: sync_rules(bank.store, suite)] * 3
        )
        assert errors == []
    with bank.store.connect() as conn:
        rules = conn.scalar(sa.select(sa.func.count()).where(RuleRecord.table_name == "merchant"))
        people = conn.scalar(sa.select(sa.func.count()).select_from(Staff))
    assert rules == len(suite.rules)
    assert people and people > 0
