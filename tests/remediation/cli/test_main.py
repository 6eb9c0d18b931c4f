"""The `dqgov` command as outside tools drive it: real processes, exit codes, one-line errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.store.models import CheckRun, Todo, TodoEvent
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row

DQGOV = str(Path(sys.executable).with_name("dqgov"))


def dqgov(*args: str, store_url: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DQGOV_STORE_URL": store_url, "DQGOV_HOME": str(home)}
    return subprocess.run([DQGOV, *args], env=env, capture_output=True, text=True, timeout=300)


def store_state(store_url: str) -> tuple[list[tuple[Any, ...]], int, int]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("dq_todo"):
                return [], 0, 0
            todos = [tuple(r) for r in conn.execute(sa.select(Todo.__table__).order_by(Todo.id))]
            n_events = conn.scalar(sa.select(sa.func.count()).select_from(TodoEvent)) or 0
            n_runs = conn.scalar(sa.select(sa.func.count()).select_from(CheckRun)) or 0
        return todos, n_events, n_runs
    finally:
        engine.dispose()


@pytest.fixture
def checked(databases: Any, tmp_path: Path) -> tuple[str, str]:
    """A small bank with a few defects, checked once: (source_url, store_url)."""
    source_url = databases.new("source")
    merchants = [merchant_row(1), merchant_row(2, contact_phone="12345"), merchant_row(3, uscc=None)]
    build_source(source_url, merchants, [customer_row(1, licence_end=None)])
    store_url = databases.new("store")
    done = dqgov(
        "check",
        "--source-url",
        source_url,
        "--check-date",
        str(CHECK_DATE),
        store_url=store_url,
        home=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return source_url, store_url


def test_check_twice_for_a_date_leaves_the_todos_identical(checked: tuple[str, str], tmp_path: Path) -> None:
    source_url, store_url = checked
    todos, n_events, n_runs = store_state(store_url)
    assert len(todos) == 3 and n_events == 3
    again = dqgov(
        "check",
        "--source-url",
        source_url,
        "--check-date",
        str(CHECK_DATE),
        store_url=store_url,
        home=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert "opened 0" in again.stdout
    assert store_state(store_url) == (todos, n_events, n_runs + 2)


def test_findings_export_has_the_contract_columns(checked: tuple[str, str], tmp_path: Path) -> None:
    out = tmp_path / "findings.csv"
    done = dqgov("findings", "export", "--out", str(out), store_url=checked[1], home=tmp_path)
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    contract = [
        "table",
        "record_key",
        "rule_id",
        "clause",
        "columns",
        "severity",
        "status",
        "assignee_staff_id",
        "inst_code",
    ]
    assert list(rows[0])[: len(contract)] == contract
    assert {
        (r["table"], r["record_key"], r["rule_id"], r["clause"], r["columns"], r["status"]) for r in rows
    } == {
        ("merchant", "102360458120002", "MER-C1-PHONE-FORMAT", "C1", "contact_phone", "open"),
        ("merchant", "102360458120003", "MER-E2-USCC-REQUIRED", "E2", "uscc", "open"),
        ("customer_org", "C00000000001", "CUS-E5-LICENCE-END-REQUIRED", "E5", "licence_end", "open"),
    }
    assert {r["assignee_staff_id"] for r in rows} == {"M101", "M201"}


def _assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("dqgov: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_a_source_missing_a_contract_column_fails_cleanly_and_the_store_is_unchanged(
    checked: tuple[str, str], databases: Any, tmp_path: Path
) -> None:
    _, store_url = checked
    before = store_state(store_url)
    broken = databases.new("broken")
    build_source(broken, [merchant_row(1)], [customer_row(1)])
    engine = sa.create_engine(broken)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE merchant DROP COLUMN licence_end"))
    engine.dispose()
    done = dqgov("check", "--source-url", broken, store_url=store_url, home=tmp_path)
    _assert_one_line_error(done, "'merchant'", "licence_end")
    assert store_state(store_url) == before


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("not a url", "is not a SQLAlchemy URL"),
        ("nosuchdialect://x/y", "no database driver"),
        ("sqlite:////nonexistent/folder/source.sqlite", "does not exist"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "cannot connect to source database"),
    ],
)
def test_a_bad_source_url_fails_with_one_line_and_no_store_is_written(
    tmp_path: Path, url: str, fragment: str
) -> None:
    store_file = tmp_path / "store.sqlite"
    done = dqgov("check", "--source-url", url, store_url=f"sqlite:///{store_file}", home=tmp_path)
    _assert_one_line_error(done, fragment)
    assert not store_file.exists()


def test_a_bad_check_date_is_named(tmp_path: Path) -> None:
    done = dqgov(
        "check",
        "--source-url",
        "sqlite://",
        "--check-date",
        "2026-13-01",
        store_url="sqlite://",
        home=tmp_path,
    )
    _assert_one_line_error(done, "--check-date '2026-13-01' is not a date")
