"""The issue's acceptance, end to end through the command line: a bank with 8,000 open to-dos whose merchant
extract is emptied, cut to 10%, or checked with a future date keeps the same to-dos, due dates and rates,
and is told why. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.store.models import Todo
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row

DQGOV = str(Path(sys.executable).with_name("dqgov"))
MERCHANTS = 8000
pytestmark = pytest.mark.slow


def test_a_bad_extract_or_date_leaves_8000_todos_and_the_rates_as_they_were(
    databases: Any, tmp_path: Path
) -> None:
    source_url, store_url = databases.new("source"), databases.new("store")
    source = build_source(
        source_url, [merchant_row(i, contact_phone="12345") for i in range(MERCHANTS)], [customer_row(1)]
    )
    env = {**os.environ, "DQGOV_STORE_URL": store_url, "DQGOV_HOME": str(tmp_path)}

    def dqgov(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([DQGOV, *args], env=env, capture_output=True, text=True, timeout=900)

    def check(day: str = str(CHECK_DATE)) -> subprocess.CompletedProcess[str]:
        return dqgov("check", "--source-url", source_url, "--check-date", day)

    def todos_and_rates() -> tuple[list[tuple[Any, ...]], str]:
        assert dqgov("snapshot", "--date", str(CHECK_DATE)).returncode == 0
        report = dqgov("report", "--date", str(CHECK_DATE), "--format", "csv")
        assert report.returncode == 0, report.stderr
        store = sa.create_engine(store_url)
        with store.connect() as conn:
            rows = conn.execute(
                sa.select(
                    Todo.record_key, Todo.rule_id, Todo.status, Todo.due_date, Todo.closed_on, Todo.card
                ).order_by(Todo.id)
            ).all()
        store.dispose()
        return [tuple(r) for r in rows], report.stdout

    assert check().returncode == 0
    before = todos_and_rates()
    assert sum(1 for r in before[0] if r[2] == "open") == MERCHANTS

    with source.begin() as conn:
        rows = conn.execute(sa.text("SELECT * FROM merchant ORDER BY mer_id")).mappings().all()
        conn.execute(sa.text("DELETE FROM merchant"))
    emptied = check()
    assert emptied.returncode == 2
    assert "volume guard: merchant records in scope fell from 8,000" in emptied.stderr
    assert todos_and_rates() == before

    with source.begin() as conn:  # 10% of the extract comes back
        conn.execute(
            sa.text(
                f"INSERT INTO merchant ({', '.join(rows[0])}) VALUES ({', '.join(':' + c for c in rows[0])})"
            ),
            [dict(r) for r in rows[: MERCHANTS // 10]],
        )
    cut = check()
    assert cut.returncode == 2 and "to 800 (-90%)" in cut.stderr
    assert todos_and_rates() == before

    future = check("2099-03-03")
    assert future.returncode == 2 and "--check-date 2099-03-03 is after today" in future.stderr
    assert todos_and_rates() == before
