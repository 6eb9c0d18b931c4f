"""`dqgov todos export` and `dqgov corrections import` as a user drives them: preview, then --apply."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from remediation.workbooks.layout import TODO_SHEET
from tests.dbenv import Databases
from tests.factories import CHECK_DATE
from tests.remediation.cli.test_main import dqgov
from tests.remediation.workbooks.conftest import Bank
from tests.remediation.workbooks.test_roundtrip import PHONE, col, row_of


def test_export_preview_apply_and_a_refusal_in_one_line(sqlite_databases: Databases, tmp_path: Path) -> None:
    bank = Bank(sqlite_databases, tmp_path)
    store_url = str(bank.store.url)
    out = tmp_path / "m101.xlsx"
    run = dqgov(
        "todos",
        "export",
        "--staff",
        "M101",
        "--out",
        str(out),
        "--source-url",
        bank.source_url,
        store_url=store_url,
        home=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "wrote 6 to-dos (staff:M101)" in run.stdout
    book = openpyxl.load_workbook(out)
    sheet = book[TODO_SHEET]
    todo = bank.todo(1, PHONE)
    sheet.cell(row_of(sheet, todo.id), col("value_1")).value = "13800138000"
    book.save(out)
    args = (
        "corrections",
        "import",
        str(out),
        "--staff",
        "M101",
        "--check-date",
        str(CHECK_DATE),
        "--source-url",
        bank.source_url,
    )
    preview = dqgov(*args, "--preview", str(tmp_path / "p.xlsx"), store_url=store_url, home=tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert f"to-do {todo.id}\t{PHONE}\tcontact_phone=138****8000\taccepted" in preview.stdout
    assert "1 accepted" in preview.stdout and "nothing applied" in preview.stdout
    assert bank.todo(1, PHONE).status == "open" and (tmp_path / "p.xlsx").exists()
    applied = dqgov(*args, "--apply", store_url=store_url, home=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert "1 verified" in applied.stdout and bank.todo(1, PHONE).status == "fixed"
    other = dqgov(*args[:4], "M102", *args[5:], store_url=store_url, home=tmp_path)
    assert other.returncode == 2
    assert other.stderr.startswith("dqgov: error: sheet 待办, row ") and "assigned to M101" in other.stderr
    assert other.stderr.count("\n") == 1
