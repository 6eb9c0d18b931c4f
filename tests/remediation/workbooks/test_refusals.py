"""A returned file the platform did not issue, or issued and someone tampered with, is refused whole with
one message naming the sheet, row and column, and the store is unchanged. (File checks: SQLite only.)"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from remediation.store.models import Todo
from remediation.workbooks.layout import TODO_SHEET
from remediation.workbooks.safety import WorkbookRefused
from tests.dbenv import Databases
from tests.remediation.workbooks.conftest import Bank
from tests.remediation.workbooks.test_roundtrip import PHONE, edited, judge, row_of


@pytest.fixture
def bank(sqlite_databases: Databases, tmp_path: Path) -> Bank:
    return Bank(sqlite_databases, tmp_path)


def todo_states(bank: Bank) -> list[tuple[int, str]]:
    with bank.store.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(Todo.id, Todo.status).order_by(Todo.id))]  # type: ignore[misc]


def refused(bank: Bank, path: Path, staff: str = "M101") -> str:
    before = todo_states(bank)
    with pytest.raises(WorkbookRefused) as caught:
        judge(bank, path, staff)
    assert todo_states(bank) == before
    return str(caught.value)


def test_a_typed_row_of_someone_elses_todo_is_refused(bank: Bank) -> None:
    issued = bank.export(inst_code="110100")
    others = bank.todo(4, PHONE)
    untouched = judge(bank, issued)  # others' rows left empty: fine
    assert untouched.rows == [] and untouched.blank > 1
    path = edited(issued, bank.tmp / "x.xlsx", {(others.id, "value_1"): "13800138000"})
    number = row_of(openpyxl.load_workbook(path)[TODO_SHEET], others.id)
    message = refused(bank, path)
    assert message.startswith(
        f"sheet 待办, row {number}, column 管户人 Assignee (L): to-do {others.id} is assigned to M102"
    )


def test_a_macro_workbook_is_refused(bank: Bank) -> None:
    xlsm = bank.tmp / "todos.xlsm"
    shutil.copy(bank.export(staff_id="M101"), xlsm)
    assert refused(bank, xlsm).startswith("file todos.xlsm: a macro-enabled workbook")
    hidden = bank.tmp / "macro.xlsx"  # macros inside a file named .xlsx
    shutil.copy(bank.export(staff_id="M101"), hidden)
    with zipfile.ZipFile(hidden, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert "holds macros" in refused(bank, hidden)


def test_a_wrong_or_missing_signature_is_refused(bank: Bank) -> None:
    issued = bank.export(staff_id="M101")
    book = openpyxl.load_workbook(issued)
    book["签名"]["B2"].value = "M102"  # claims to be someone else's workbook
    book.save(bank.tmp / "resigned.xlsx")
    assert refused(bank, bank.tmp / "resigned.xlsx").startswith(
        "sheet 签名: the signature is missing or wrong"
    )
    book = openpyxl.load_workbook(issued)
    del book["签名"]
    book.save(bank.tmp / "unsigned.xlsx")
    assert refused(bank, bank.tmp / "unsigned.xlsx").startswith("sheet 签名: the sheet is missing")


def test_a_foreign_sheet_is_refused(bank: Bank) -> None:
    book = openpyxl.load_workbook(bank.export(staff_id="M101"))
    book.create_sheet("Sheet1")
    book.save(bank.tmp / "extra.xlsx")
    assert refused(bank, bank.tmp / "extra.xlsx").startswith("sheet Sheet1: this sheet is not part")


def test_an_oversized_file_and_a_zip_bomb_are_refused_before_opening(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = bank.export(staff_id="M101")
    monkeypatch.setenv("DQGOV_WORKBOOK_MAX_MB", "0.001")
    assert "is over the limit of 0.001 MB" in refused(bank, issued)
    monkeypatch.delenv("DQGOV_WORKBOOK_MAX_MB")
    bomb = bank.tmp / "bomb.xlsx"
    shutil.copy(issued, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/zeros.bin", b"\x00" * (20 * 1024 * 1024))
    assert "zip bomb" in refused(bank, bomb)
    text = bank.tmp / "notes.xlsx"
    text.write_text("not a workbook")
    assert refused(bank, text) == "file notes.xlsx: this is not an .xlsx workbook"


def test_with_the_outbox_adapter_a_second_import_of_the_file_sends_nothing_again(bank: Bank) -> None:
    from remediation.checks.writeback import REQUESTS, CorrectionsOutbox
    from remediation.store.engines import create_engine
    from remediation.workbooks.apply import apply_preview
    from tests.dbenv import source_engine
    from tests.factories import CHECK_DATE

    todo = bank.todo(1, PHONE)
    path = edited(bank.export(staff_id="M101"), bank.tmp / "x.xlsx", {(todo.id, "value_1"): "13800138000"})
    outbox = CorrectionsOutbox(create_engine(bank.source_url, "source"))
    for expected in ("queued", "applied_before"):  # the to-do waits, still active, for a check
        preview = apply_preview(
            bank.store,
            source_engine(bank.source_url),
            judge(bank, path),
            "M101",
            outbox,
            check_date=CHECK_DATE,
        )
        assert [r.status for r in preview.rows] == [expected]
    assert bank.todo(1, PHONE).status == "pending_verification"
    with bank.source.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(REQUESTS)) == 1
