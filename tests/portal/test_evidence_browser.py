"""Evidence files in headless Chromium at 1366×768: the account manager attaches a PDF to an appeal (and is
told by name when a file is not one, in Chinese and English); the head sees it on the appeals page and
downloads it. Screenshots under test-artifacts/screenshots/<test>/."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.portal.browser_kit import Shots, browser, log_in, open_page, playwright, shots  # noqa: F401
from tests.portal.conftest import Bank, make_app, serve
from tests.portal.test_browser import BAD_ID_RULE

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_appeal_evidence_is_attached_refused_by_name_and_downloaded_by_the_head(
    browser: Browser,  # noqa: F811
    bank: Bank,
    shots: Shots,  # noqa: F811
) -> None:
    todo = bank.todo_id(2, BAD_ID_RULE)
    with serve(make_app(bank)) as url:
        page, errors = open_page(browser, shots, "M101")
        log_in(page, url, "M101")
        page.goto(f"{url}/todos/{todo}")
        page.get_by_label("申诉理由").fill("客户为港澳居民，证件类型录错")
        page.locator("#appeal-files").set_input_files(
            [{"name": "扫描件.pdf", "mimeType": "application/pdf", "buffer": b"PK\x03\x04 a zip, not a pdf"}]
        )
        page.get_by_role("button", name="提交申诉").click()
        expect(page.locator("#appeal-files-error")).to_contain_text("文件“扫描件.pdf”不是 PDF、JPG 或 PNG")
        expect(page.get_by_label("申诉理由")).to_have_value(
            "客户为港澳居民，证件类型录错"
        )  # the form is kept
        shots(page, "refused-zh")
        page.goto(f"{url}/todos/{todo}?lang=en")
        page.get_by_label("Reason").fill("Hong Kong resident, ID type mistyped")
        page.locator("#appeal-files").set_input_files(
            [{"name": "scan.png", "mimeType": "image/png", "buffer": b"plain text"}]
        )
        page.get_by_role("button", name="File the appeal").click()
        expect(page.locator("#appeal-files-error")).to_contain_text(
            "File \u201cscan.png\u201d is not a PDF, JPG or PNG"
        )
        shots(page, "refused-en")
        page.goto(f"{url}/todos/{todo}?lang=zh")
        page.get_by_label("申诉理由").fill("客户为港澳居民，证件类型录错，附港澳通行证复印件")
        page.locator("#appeal-files").set_input_files(
            [{"name": "港澳通行证.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        page.get_by_role("button", name="提交申诉").click()
        expect(page.locator(".flash")).to_contain_text("申诉已提交")
        expect(page.get_by_role("link", name="港澳通行证.pdf")).to_be_visible()
        shots(page, "attached")
        assert [e for e in errors if not e.startswith("422 ")] == []  # the two refusals, and nothing else
        assert len(errors) == 2

        head, head_errors = open_page(browser, shots, "S101")
        log_in(head, url, "S101")
        head.goto(f"{url}/appeals")
        link = head.get_by_role("link", name="港澳通行证.pdf")
        expect(link).to_be_visible()
        shots(head, "appeals-with-evidence")
        with head.expect_download() as got:
            link.click()
        assert got.value.suggested_filename == "港澳通行证.pdf"
        assert Path(got.value.path()).read_bytes() == PDF
        assert head_errors == []
