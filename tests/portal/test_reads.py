"""Reads never write: viewing or exporting the summary, the dashboard or `dqgov report` for a day without a
snapshot shows live figures, labelled as such, and leaves the snapshot tables as they were."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from openpyxl import load_workbook

from remediation.reporting.snapshots import take_snapshot
from remediation.store.workflow_models import Snapshot, SnapshotRecords
from tests.factories import CHECK_DATE
from tests.portal.conftest import Bank, Client, make_app, serve

MONTH_END = dt.date(2026, 11, 30)  # the bank was checked on 2026-11-20; "today" is the month end
DQGOV = str(Path(sys.executable).with_name("dqgov"))


def snapshot_tables(store: sa.Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store.connect() as conn:
        snapshots = sorted(tuple(r) for r in conn.execute(sa.select(Snapshot.__table__)))
        records = sorted(tuple(r) for r in conn.execute(sa.select(SnapshotRecords.__table__)))
    return snapshots, records


def store_url(bank: Bank) -> str:
    return bank.store.url.render_as_string(hide_password=False)


def test_viewing_a_month_end_without_a_snapshot_writes_nothing_and_says_the_figures_are_live(
    any_bank: Bank,
) -> None:
    take_snapshot(any_bank.store, CHECK_DATE)  # an earlier day's snapshot, to compare against
    before = snapshot_tables(any_bank.store)
    app = make_app(any_bank, today=lambda: MONTH_END)
    with serve(app) as url:
        for staff_id in ("D001", "B001", "S101"):
            client = Client(url)
            client.login(staff_id)
            page = client.get(f"/summary?date={MONTH_END}")
            assert page.status == 200, staff_id
            assert snapshot_tables(any_bank.store) == before, staff_id
            assert "实时数字" in page.text and "未生成快照" in page.text, staff_id
            english = client.get(f"/summary?date={MONTH_END}&lang=en")
            assert "Live figures" in english.text and "no snapshot" in english.text
            client.get("/summary?lang=zh")
            workbook = client.get(f"/summary.xlsx?date={MONTH_END}")
            assert workbook.status == 200
            title = str(load_workbook(io.BytesIO(workbook.body)).active["A1"].value)  # type: ignore[index]
            assert "实时数字" in title, title
            assert client.get("/dashboard").status == 200
            assert client.get("/summary").status == 200
    assert snapshot_tables(any_bank.store) == before


def test_dqgov_report_for_a_day_without_a_snapshot_computes_in_memory(any_bank: Bank, tmp_path: Path) -> None:
    take_snapshot(any_bank.store, CHECK_DATE)
    before = snapshot_tables(any_bank.store)
    env = {**os.environ, "DQGOV_STORE_URL": store_url(any_bank), "DQGOV_HOME": str(tmp_path)}
    done = subprocess.run(
        [DQGOV, "report", "--date", str(MONTH_END), "--format", "csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = {r["inst_code"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    # the contract's columns, with the live figures: 张经理's 4, 王经理's 1 and 吴经理's 1 merchant to-dos, the
    # customer's 1; nothing fixed yet
    assert list(rows["100000"])[:8] == [
        "inst_code",
        "level",
        "baseline",
        "fixed",
        "exempted",
        "open",
        "overdue",
        "completion_rate",
    ]
    assert (rows["100000"]["baseline"], rows["100000"]["open"], rows["100000"]["fixed"]) == ("7", "7", "0")
    assert "live" in done.stderr and "no snapshot" in done.stderr
    assert snapshot_tables(any_bank.store) == before
    # a day with a snapshot is reported from it, silently
    done = subprocess.run(
        [DQGOV, "report", "--date", str(CHECK_DATE), "--format", "csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "live" not in done.stderr, done.stderr
