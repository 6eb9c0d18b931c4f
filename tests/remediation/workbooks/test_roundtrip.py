"""The to-do workbook round trip as a user lives it: export, type in Excel, preview, apply, re-import.

Every workbook is opened with openpyxl; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from remediation.checks.writeback import SourceRowUpdate
from remediation.store.engines import create_engine
from remediation.store.workflow_models import Correction
from remediation.workbooks.apply import apply_preview, write_preview
from remediation.workbooks.layout import INDEX, TODO_SHEET
from remediation.workbooks.safety import WorkbookRefused
from remediation.workbooks.todo_import import Preview, judge_workbook
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, merchant_row
from tests.remediation.workbooks.conftest import SUITES, Bank

PHONE = "MER-C1-PHONE-FORMAT"
ID_TYPE = "MER-P2-LEGAL-REP-ID-TYPE"


def col(name: str) -> int:
    return INDEX[name] + 1


def row_of(sheet: Any, todo_id: int) -> int:
    for number in range(2, sheet.max_row + 1):
        if sheet.cell(number, col("todo_id")).value == todo_id:
            return number
    raise AssertionError(f"to-do {todo_id} is not in the workbook")


def edited(path: Path, out: Path, edits: dict[tuple[int, str], Any]) -> Path:
    """The workbook after a user typed `edits` ({(to-do id, column): value}) in Excel and saved it."""
    book = openpyxl.load_workbook(path)
    sheet = book[TODO_SHEET]
    for (todo_id, column), value in edits.items():
        sheet.cell(row_of(sheet, todo_id), col(column)).value = value
    book.save(out)
    return out


def judge(bank: Bank, path: Path, staff: str = "M101") -> Preview:
    return judge_workbook(
        path, bank.store, source_engine(bank.source_url), staff, check_date=CHECK_DATE, suites=SUITES
    )


def apply(bank: Bank, preview: Preview, staff: str = "M101") -> Preview:
    writeback = SourceRowUpdate(create_engine(bank.source_url, "source"))
    return apply_preview(
        bank.store,
        source_engine(bank.source_url),
        preview,
        staff,
        writeback,
        check_date=CHECK_DATE,
        suites=SUITES,
    )


def test_the_workbook_holds_the_persons_todos_locked_signed_with_drop_downs(bank: Bank) -> None:
    path = bank.export(staff_id="M101")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["待办", "说明", "签名"] and book["签名"].sheet_state == "hidden"
    assert book.security is not None and book.security.lockStructure
    sheet = book[TODO_SHEET]
    phone = bank.todo(1, PHONE)
    number = row_of(sheet, phone.id)
    cells = {name: sheet.cell(number, col(name)) for name in INDEX}
    assert cells["record_key"].value == merchant_row(1)["mer_id"] and cells["rule_id"].value == PHONE
    assert cells["clause"].value == "C1" and "手机号" in cells["description"].value and cells["hint"].value
    assert cells["current"].value == "contact_phone=123****8901"  # masked, never the clear value
    assert (
        cells["due_date"].value.date() == phone.due_date and cells["due_date"].number_format == "yyyy-mm-dd"
    )
    assert cells["field_1"].value == "contact_phone" and cells["field_2"].value is None
    assert sheet.protection.sheet and cells["record_key"].protection.locked
    assert not cells["value_1"].protection.locked and cells["value_1"].number_format == "@"
    assert sheet.column_dimensions["U"].hidden  # the tag
    # a natural person's name is masked; formula-like text is neutralised
    micro = sheet.cell(row_of(sheet, bank.todo(5, PHONE).id), col("record_name")).value
    assert micro == "张*"
    assert all(not str(c.value).startswith(("=", "+", "@")) for r in sheet.iter_rows() for c in r if c.value)
    # drop-downs where the standard has a code list
    id_type_row = row_of(sheet, bank.todo(2, ID_TYPE).id)
    [validation] = [v for v in sheet.data_validations.dataValidation if f"N{id_type_row}" in v.sqref]
    assert validation.type == "list" and validation.formula1 == '"01,02,03,04,05,06"'
    # only M101's to-dos
    keys = {sheet.cell(n, col("assignee")).value for n in range(2, sheet.max_row + 1)}
    assert keys == {"M101"}
    assert "更正值" in book["说明"]["A4"].value


def test_round_trip_applies_the_right_value_rejects_the_wrong_one_and_never_twice(bank: Bank) -> None:
    issued = bank.export(staff_id="M101")
    right, wrong, id_type = bank.todo(1, PHONE), bank.todo(3, PHONE), bank.todo(2, ID_TYPE)
    typed = edited(
        issued,
        bank.tmp / "typed.xlsx",
        {
            (right.id, "value_1"): 13800138000,  # Excel made it a number
            (wrong.id, "value_1"): "1380013800",
            (id_type.id, "value_1"): "01",
        },
    )
    preview = judge(bank, typed)
    status = {r.todo_id: r.status for r in preview.rows}
    assert status == {right.id: "accepted", wrong.id: "rejected", id_type.id: "accepted"}
    [reject] = [r for r in preview.rows if r.status == "rejected"]
    assert PHONE in reject.reasons["contact_phone"][0] and "手机号" in reject.reasons["contact_phone"][0]
    assert bank.todo(1, PHONE).status == "open"  # a preview changes nothing
    with bank.store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Correction)) == 0

    write_preview(preview, bank.tmp / "preview.xlsx")
    sheet = openpyxl.load_workbook(bank.tmp / "preview.xlsx").active
    assert sheet is not None
    marked = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == wrong.id)
    assert marked[5].fill.fgColor.rgb.endswith("F8CBAD") and PHONE in marked[5].comment.text
    assert "拒绝" in marked[-2].value and PHONE in marked[-1].value

    apply(bank, preview)
    assert {r.todo_id: r.status for r in preview.rows} == {
        right.id: "verified",
        wrong.id: "rejected",
        id_type.id: "verified",
    }
    assert bank.todo(1, PHONE).status == "fixed" and bank.todo(2, ID_TYPE).status == "fixed"
    assert bank.todo(3, PHONE).status == "open"

    again = apply(bank, judge(bank, typed))
    assert {r.todo_id: r.status for r in again.rows} == {
        right.id: "closed",
        wrong.id: "rejected",
        id_type.id: "closed",
    }
    with bank.store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Correction)) == 2


@pytest.mark.parametrize(
    ("edit", "place"),
    [
        (("record_key", merchant_row(2)["mer_id"]), "column 记录编号 Record key (C)"),
        (("field_1", "mer_type"), "column 字段1 Field 1 (M)"),
        (("value_1", '=HYPERLINK("http://x")'), "column 更正值1 New value 1 (N)"),
    ],
)
def test_a_changed_key_or_a_formula_refuses_the_whole_file_naming_the_cell(
    bank: Bank, edit: tuple[str, str], place: str
) -> None:
    issued = bank.export(staff_id="M101")
    right, tampered = bank.todo(1, PHONE), bank.todo(3, PHONE)
    path = edited(
        issued, bank.tmp / "x.xlsx", {(right.id, "value_1"): "13800138000", (tampered.id, edit[0]): edit[1]}
    )
    number = row_of(openpyxl.load_workbook(path)[TODO_SHEET], tampered.id)
    with pytest.raises(WorkbookRefused) as refused:
        judge(bank, path)
    assert str(refused.value).startswith(f"sheet 待办, row {number}, {place}:")
    assert bank.todo(1, PHONE).status == "open"
