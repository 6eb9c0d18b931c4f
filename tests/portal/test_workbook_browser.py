"""An account manager downloads the to-do workbook, types in it, uploads it, sees the preview, confirms."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from playwright.sync_api import Browser, expect

from remediation.workbooks.layout import TODO_SHEET
from tests.portal.browser_kit import Shots, browser, log_in, open_page, playwright, shots
from tests.portal.conftest import Bank, make_app, serve
from tests.portal.test_browser import PHONE
from tests.remediation.workbooks.test_roundtrip import col, row_of

__all__ = ["browser", "playwright", "shots"]  # the fixtures this test borrows


def test_upload_a_workbook_see_the_preview_and_confirm(
    browser: Browser, bank: Bank, shots: Shots, tmp_path: Path
) -> None:
    right, wrong = bank.todo_id(1, PHONE), bank.todo_id(7, PHONE)
    with serve(make_app(bank)) as url:
        page, errors = open_page(browser, shots, "M101")
        log_in(page, url, "M101")
        page.get_by_role("link", name="Excel 批量更正").click()
        with page.expect_download() as download:
            page.locator("#download-mine").click()
        path = tmp_path / "mine.xlsx"
        download.value.save_as(path)
        book = openpyxl.load_workbook(path)
        sheet = book[TODO_SHEET]
        sheet.cell(row_of(sheet, right), col("value_1")).value = "13800138000"
        sheet.cell(row_of(sheet, wrong), col("value_1")).value = "1380013800"
        book.save(path)
        page.locator("#workbook-file").set_input_files(str(path))
        page.get_by_role("button", name="上传并预览").click()
        preview = page.locator("#workbook-preview")
        expect(preview).to_contain_text("1 行可导入，1 行被拒绝")
        expect(preview.locator(".workbook-rejected")).to_contain_text(PHONE)
        expect(preview.locator(".workbook-accepted")).to_contain_text("138****8000")
        shots(page, "workbook-preview")
        assert bank.todo_status(right) == "open"  # nothing written before the confirmation
        page.get_by_role("button", name="确认写回 1 条更正").click()
        expect(page.locator("#workbook-preview")).to_contain_text("已写回，复核通过")
        shots(page, "workbook-applied")
        assert bank.todo_status(right) == "fixed" and bank.todo_status(wrong) == "open"
        assert bank.source_value(1, "contact_phone") == "13800138000"
        # the same file again: the to-do is closed, nothing is applied twice
        page.locator("#workbook-file").set_input_files(str(path))
        page.get_by_role("button", name="上传并预览").click()
        expect(page.locator(".workbook-closed")).to_contain_text("待办已关闭")
        # a file that is not ours is refused in one line
        other = tmp_path / "other.xlsx"
        openpyxl.Workbook().save(other)
        page.locator("#workbook-file").set_input_files(str(other))
        page.get_by_role("button", name="上传并预览").click()
        expect(page.locator("#workbook-refused")).to_contain_text("工作表")
        shots(page, "workbook-refused")
        assert errors == [f"422 {url}/workbook/preview"]  # the refusal, on purpose
