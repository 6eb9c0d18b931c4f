"""The command line on a bad night: future dates and a wrongly typed source are refused in one line with the
store unchanged; a stopped run is accepted, a mistaken one voided, a dead one swept. Real processes."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.contract import SOURCE_METADATA
from remediation.store.models import CheckRun
from remediation.store.workflow_models import AuditEntry
from tests.checkbank import PHONE, Bank, key
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row

DQGOV = str(Path(sys.executable).with_name("dqgov"))


def dqgov(bank: Bank, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    url = bank.store.url.render_as_string(hide_password=False)
    env = {**os.environ, "DQGOV_STORE_URL": url, "DQGOV_HOME": str(tmp_path)}
    return subprocess.run([DQGOV, *args], env=env, capture_output=True, text=True, timeout=600)


def one_line_error(done: subprocess.CompletedProcess[str], *fragments: str, progress: bool = False) -> None:
    """Exit status 2 and one error line (after the progress lines, when the command got that far)."""
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert (progress or len(lines) == 1) and lines[-1].startswith("dqgov: error: "), done.stderr
    assert not any(line.startswith(("Traceback", "dqgov: error")) for line in lines[:-1]), done.stderr
    for fragment in fragments:
        assert fragment in lines[-1]


@pytest.fixture
def bank(databases: Any) -> Bank:
    return Bank(databases)


def state(bank: Bank) -> tuple[Any, ...]:
    with bank.store.connect() as conn:
        runs = conn.execute(sa.select(CheckRun.id, CheckRun.status)).all()
    return tuple(bank.todos().items()), tuple(runs)


@pytest.mark.parametrize("day", ["2099-03-03", "9999-12-31"])
def test_a_future_check_date_is_refused_in_one_line(bank: Bank, tmp_path: Path, day: str) -> None:
    bank.run()
    before = state(bank)
    done = dqgov(bank, tmp_path, "check", "--source-url", bank.source_url, "--check-date", day)
    one_line_error(done, f"--check-date {day} is after today")
    assert state(bank) == before
    for command in (["remind", "--date", day], ["snapshot", "--date", day]):
        one_line_error(dqgov(bank, tmp_path, *command), "is after today")
    assert state(bank) == before


def test_a_column_of_the_wrong_type_is_named_before_any_suite_runs(databases: Any, tmp_path: Path) -> None:
    source_url = databases.new("source")
    engine = build_source(source_url, [], [customer_row(1, contact_phone="0792-8123456")])
    typed = sa.MetaData()
    columns = [
        sa.Column(c.name, sa.BigInteger if c.name == "contact_phone" else c.type, primary_key=c.primary_key)
        for c in SOURCE_METADATA.tables["merchant"].c
    ]
    table = sa.Table("merchant", typed, *columns)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE merchant"))
    typed.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [merchant_row(1, contact_phone=13800138000)])
    store_url = databases.new("store")
    env = {**os.environ, "DQGOV_STORE_URL": store_url, "DQGOV_HOME": str(tmp_path)}
    done = subprocess.run(
        [DQGOV, "check", "--source-url", source_url], env=env, capture_output=True, text=True
    )
    one_line_error(done, "source table 'merchant' column 'contact_phone': expected text, found BIGINT")
    store = sa.create_engine(store_url)
    with store.connect() as conn:
        assert not sa.inspect(conn).has_table("dq_check_run")  # nothing written, no suite run
    store.dispose()


def test_the_cli_accepts_a_stopped_run_and_voids_it_again_with_audit(bank: Bank, tmp_path: Path) -> None:
    bank.run()
    bank.delete_merchants(0)
    stopped = dqgov(bank, tmp_path, "check", "--source-url", bank.source_url, "--check-date", str(CHECK_DATE))
    one_line_error(
        stopped, "volume guard: merchant records in scope fell from 36", "changed no to-do", progress=True
    )
    assert "customer_org" in stopped.stdout  # the other table was checked and applied
    run_id = bank.last_run_id()
    assert bank.run_row(run_id).status == "failed"
    one_line_error(dqgov(bank, tmp_path, "run", "accept-drop", str(run_id), "--staff", "M101"), "data office")
    accepted = dqgov(bank, tmp_path, "run", "accept-drop", str(run_id), "--staff", "D001")
    assert accepted.returncode == 0, accepted.stderr
    assert "reconciled" in accepted.stdout and "gone 10" in accepted.stdout
    assert bank.statuses()[f"{key(1)}:{PHONE}"] == "gone"
    voided = dqgov(
        bank, tmp_path, "run", "void", str(run_id), "--staff", "D001", "--reason", "extract was cut"
    )
    assert voided.returncode == 0, voided.stderr
    assert "10 restored" in voided.stdout
    assert set(bank.statuses().values()) == {"open"}
    listed = dqgov(bank, tmp_path, "run", "list")
    assert f"{run_id:>6} merchant" in listed.stdout and " void " in listed.stdout
    with bank.store.connect() as conn:
        entries = conn.execute(sa.select(AuditEntry.staff_id, AuditEntry.action, AuditEntry.client)).all()
    assert {(s, a) for s, a, _ in entries} >= {("D001", "volume_drop_accepted"), ("D001", "run_voided")}
    assert all(c.startswith("cli:") for s, a, c in entries if a in ("volume_drop_accepted", "run_voided"))


def test_accept_drop_needs_a_person(bank: Bank, tmp_path: Path) -> None:
    done = dqgov(bank, tmp_path, "check", "--source-url", bank.source_url, "--accept-drop")
    one_line_error(done, "--accept-drop needs --staff ID")
    assert dt.date.today() and bank.count(CheckRun) == 0
