"""Each role's main path in headless Chromium (Playwright driving /usr/bin/chromium), at 1366×768.

Screenshots of every page go to test-artifacts/screenshots/<test>/, with the server time of each page
(`Server-Timing`) in timings.json next to them (tests/portal/browser_kit.py). Console errors (a CSP violation,
a script error) fail the test.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from remediation.workflow.appeals import coordinate, file_appeal
from tests.dbenv import Databases
from tests.portal.browser_kit import Shots, browser, log_in, open_page, playwright, shots
from tests.portal.conftest import PASSWORD, Bank, key, make_app, pg_bank, serve

PHONE = "MER-C1-PHONE-FORMAT"
BAD_ID_RULE = "MER-P3-LEGAL-REP-ID-VALID"
__all__ = ["Shots", "browser", "log_in", "open_page", "playwright", "shots"]  # the other modules borrow these


def correct_phone(page: Page, url: str, todo_id: int, shots: Shots | None = None) -> None:
    """Open the to-do, type a wrong phone, see it refused, type the right one, see the to-do close."""
    page.goto(f"{url}/todos/{todo_id}")
    field = page.locator("#field-contact_phone")
    expect(field).to_have_value("12345678901")  # the owner's own form shows the value to correct
    if shots:
        shots(page, "record-page")
    field.fill("1380013800")
    page.get_by_role("button", name="校验并提交更正").click()
    expect(page.locator("#correction-errors")).to_contain_text("联系电话")
    expect(page.locator("#err-contact_phone")).to_contain_text(PHONE)
    expect(page.locator("#field-contact_phone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#todo-status")).to_have_text("待整改")
    if shots:
        shots(page, "correction-refused")
    page.locator("#field-contact_phone").fill("13800138000")
    page.get_by_role("button", name="校验并提交更正").click()
    expect(page.locator("#todo-status")).to_have_text("已整改（已验证）")
    expect(page.locator(".flash")).to_contain_text("复核通过")
    expect(page.locator("#history")).to_contain_text("在平台更正并写回")
    if shots:
        shots(page, "verified-closed")


def test_account_manager_sees_todos_corrects_a_record_and_sees_it_close(
    browser: Browser, bank: Bank, shots: Shots
) -> None:
    with serve(make_app(bank)) as url:
        page, errors = open_page(browser, shots, "M101")
        page.goto(url + "/")
        shots(page, "login")
        log_in(page, url, "M101")
        expect(page.get_by_role("heading", level=1)).to_contain_text("我的待办")
        expect(page.locator("#todo-table")).to_contain_text(key(1))
        expect(page.locator(".tabs")).to_contain_text("未完成 4")
        shots(page, "my-todos")
        page.get_by_label("规则", exact=True).select_option(PHONE)
        page.get_by_role("button", name="应用").click()
        expect(page.locator("#todo-table tbody tr")).to_have_count(2)
        shots(page, "my-todos-filtered")
        page.get_by_role("link", name=re.compile(key(1))).click()
        correct_phone(page, url, bank.todo_id(1, PHONE), shots)
        assert bank.source_value(1, "contact_phone") == "13800138000"
        page.get_by_role("link", name="我的待办").first.click()
        expect(page.locator("#todo-table")).not_to_contain_text(key(1))
        # "already fixed in the source system" and an appeal
        page.goto(f"{url}/todos/{bank.todo_id(7, PHONE)}")
        page.get_by_role("button", name="已在源系统修复").click()
        expect(page.locator("#todo-status")).to_have_text("待验证")
        shots(page, "claimed-pending-verification")
        page.goto(f"{url}/todos/{bank.todo_id(2, BAD_ID_RULE)}")
        page.get_by_label("申诉理由").fill("客户为港澳居民，证件类型录错，已联系客户核实")
        page.get_by_role("button", name="提交申诉").click()
        expect(page.locator(".flash")).to_contain_text("申诉已提交")
        shots(page, "appealed")
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.goto(url + "/todos")
        expect(page.get_by_role("heading", level=1)).to_contain_text("My to-dos")
        shots(page, "my-todos-english")
        assert errors == []


def test_head_sees_the_rate_move_drills_down_and_coordinates(
    browser: Browser, bank: Bank, shots: Shots
) -> None:
    with serve(make_app(bank)) as url:
        head, head_errors = open_page(browser, shots, "S101")
        log_in(head, url, "S101")
        expect(head).to_have_url(re.compile(r"/dashboard"))
        expect(head.locator("#completion-rate")).to_have_text("0.0%")
        expect(head.locator("#trend canvas")).to_have_count(1)  # ECharts drew the trend
        shots(head, "dashboard-before")
        manager, manager_errors = open_page(browser, shots, "M101")
        log_in(manager, url, "M101")
        correct_phone(manager, url, bank.todo_id(1, PHONE))
        head.reload()
        expect(head.locator("#completion-rate")).to_have_text("20.0%")  # 1 of the 5 baseline to-dos fixed
        expect(head.locator("#done-count")).to_have_text("1")
        shots(head, "dashboard-after-correction")
        # the branch head drills down: branch → sub-branch → account manager → to-do
        branch, branch_errors = open_page(browser, shots, "B001")
        log_in(branch, url, "B001")
        expect(branch.locator("#children")).to_contain_text("赣江银行濂溪支行")
        shots(branch, "branch-dashboard")
        branch.locator("#children").get_by_role("link", name="赣江银行浔阳支行").click()
        expect(branch.get_by_role("heading", level=1)).to_contain_text("赣江银行浔阳支行")
        shots(branch, "sub-branch-dashboard")
        branch.locator("#people").get_by_role("link", name="王经理").click()
        expect(branch.locator("#todo-table")).to_contain_text(key(4))
        shots(branch, "manager-todos")
        branch.get_by_role("link", name=re.compile(key(4))).click()
        expect(branch.locator("#values")).to_be_visible()
        expect(branch.get_by_text("123****8901")).to_be_visible()
        assert branch.locator("input[name^=field_]").count() == 0  # a head sees values masked, no edit form
        assert "12345678901" not in branch.content()
        shots(branch, "record-masked")
        # the summary table, on screen and as Excel
        head.get_by_role("link", name="机构问题汇总表").click()
        expect(head.locator("#summary")).to_contain_text("赣江银行浔阳支行")
        shots(head, "summary")
        with head.expect_download() as download:
            head.locator("#xlsx-link").click()
        target = shots.folder / "summary.xlsx"
        download.value.save_as(target)
        book = load_workbook(io.BytesIO(target.read_bytes()))
        assert book.sheetnames[0] == "封面" and "支行" in book.sheetnames and "客户经理" in book.sheetnames
        # coordination of an appeal waiting for the head
        file_appeal(
            bank.store, bank.todo_id(2, BAD_ID_RULE), "M101", "证件类型录错，应为港澳居民来往内地通行证"
        )
        head.get_by_role("link", name="申诉协调").click()
        expect(head.locator(".appeal")).to_contain_text("港澳居民")
        shots(head, "appeals-to-coordinate")
        head.get_by_label("提交数据管理部门仲裁").check()
        head.get_by_role("button", name="提交决定").click()
        expect(head.locator(".flash")).to_contain_text("已记录")
        expect(head.get_by_text("没有待处理的申诉。")).to_be_visible()
        assert head_errors == manager_errors == branch_errors == []


def test_data_office_arbitrates_an_appeal_and_reviews_rules_runs_and_docs(
    browser: Browser, bank: Bank, shots: Shots
) -> None:
    todo = bank.todo_id(2, BAD_ID_RULE)
    appeal = file_appeal(bank.store, todo, "M101", "客户证件为有效的旧版证件，已核实原件")
    coordinate(bank.store, appeal, "S101", "pass_up", "请数据管理部门认定")
    with serve(make_app(bank)) as url:
        page, errors = open_page(browser, shots, "D001")
        log_in(page, url, "D001")
        expect(page.locator("#children")).to_contain_text("赣江银行九江分行")
        shots(page, "bank-dashboard")
        page.get_by_role("link", name="申诉仲裁").click()
        expect(page.locator(".appeal")).to_contain_text("已核实原件")
        shots(page, "arbitration-queue")
        page.get_by_label("同意（豁免）").check()
        page.get_by_role("button", name="提交决定").click()
        expect(page.locator(".flash")).to_contain_text("已记录")
        assert bank.todo_status(todo) == "exempted"
        page.goto(f"{url}/todos/{todo}")
        expect(page.locator("#todo-status")).to_have_text("已豁免")
        shots(page, "exempted-record")
        page.get_by_role("link", name="规则目录").click()
        expect(page.locator("#MER-C1-PHONE-FORMAT")).to_be_visible()
        shots(page, "rule-catalogue")
        page.get_by_role("link", name="专项治理").click()
        page.get_by_label("名称", exact=True).fill("受益所有人专项治理")
        page.get_by_label("基准日").fill("2026-11-20")
        page.get_by_label("截止日").fill("2027-06-30")
        page.get_by_label("收单商户").check()
        page.get_by_role("button", name="创建").click()
        expect(page.locator("#campaigns")).to_contain_text("受益所有人专项治理")
        shots(page, "campaigns")
        page.get_by_role("link", name="检查运行").click()
        page.get_by_role("button", name="立即运行").click()
        expect(page.locator(".flash")).to_contain_text("已开始运行检查")
        for _ in range(50):
            if "已完成" in page.locator("#trigger-state").inner_text():
                break
            page.wait_for_timeout(100)
            page.reload()
        expect(page.locator("#trigger-state")).to_contain_text("已完成")
        shots(page, "runs")
        page.locator("#runs").get_by_role("link", name=re.compile(r"^\d+$")).last.click()
        page.get_by_role("button", name="生成").click()
        expect(page.locator(".flash")).to_contain_text("Data Docs")
        for _ in range(120):
            if page.locator("#docs-link").count():
                break
            page.wait_for_timeout(500)
            page.reload()
        shots(page, "run-detail")
        page.locator("#docs-link").click()
        expect(page.get_by_text("Expectation Suite").first).to_be_visible()
        assert "12345678901" not in page.content()
        # in the portal's frame, with the way back, no link out of the bank, and status icons that show
        expect(page.locator("#dq-frame")).to_contain_text("重新校验")
        assert not re.search(r'href="(https?:)?//', page.content())
        icons = page.evaluate(
            "[...document.querySelectorAll('.fa-check-circle, .fa-times')]"
            ".map(e => getComputedStyle(e, '::before').content)"
        )
        assert icons and all(c not in ("none", "normal", "") for c in icons), icons
        shots(page, "data-docs")
        page.go_back()
        page.get_by_role("link", name="导出").click()
        shots(page, "exports")
        page.get_by_role("link", name="审计日志").click()
        expect(page.locator("#audit")).to_contain_text("同意申诉")
        shots(page, "audit-log")
        # the Data Docs page runs no script by design (CSP sandbox); nothing else may log an error
        assert [e for e in errors if "sandbox" not in e.lower()] == []


def test_data_office_marks_a_holiday_on_the_calendar_and_sees_the_due_date_move(
    browser: Browser, bank: Bank, shots: Shots
) -> None:
    phone = bank.todo_id(1, PHONE)  # low severity: 20 working days after Fri 20 November 2026
    with serve(make_app(bank)) as url:
        page, errors = open_page(browser, shots, "D001")
        log_in(page, url, "D001")
        expect(page.locator(".calendar-gap")).to_contain_text("未来 90 天将进入 2027 年")
        shots(page, "dashboard-calendar-warning")
        page.goto(f"{url}/todos/{phone}")
        expect(page.locator("#todo-due")).to_have_text("2026-12-18")
        page.get_by_role("link", name="工作日历").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("工作日历 · 2026")
        expect(page.locator("#day-2026-10-01")).to_have_attribute("aria-label", re.compile("法定日历"))
        shots(page, "calendar-2026")
        page.locator("#day-2026-12-01").click()
        expect(page.locator("#day-state")).to_contain_text("2026-12-01 周二 · 工作日")
        page.get_by_role("radio", name="放假（节假日）").check()
        page.get_by_label("说明", exact=True).fill("行庆日")
        page.get_by_label("依据文件号（可选）").fill("行发〔2026〕9号")
        shots(page, "calendar-day-form")
        page.get_by_role("button", name="保存并重算到期日").click()
        expect(page.locator(".flash").first).to_contain_text("工作日历已保存")
        expect(page.locator("#moved")).to_contain_text("项未完成待办的到期日已按新日历重新计算")
        expect(page.locator("#day-2026-12-01")).to_have_attribute(
            "aria-label", re.compile("本行日历: 行庆日")
        )
        expect(page.locator("#entries")).to_contain_text("行发〔2026〕9号")
        shots(page, "calendar-holiday-marked")
        page.goto(f"{url}/todos/{phone}")
        expect(page.locator("#todo-due")).to_have_text("2026-12-21")
        expect(page.locator("#history")).to_contain_text("工作日历调整，到期日变更")
        shots(page, "todo-due-date-moved")
        # 2027: chinese-calendar does not know it; once it is marked entered, the warning goes
        page.goto(f"{url}/office/calendar?year=2027")
        expect(page.locator("#coverage")).to_contain_text("法定日历（chinese-calendar）尚未覆盖 2027 年")
        page.get_by_role("button", name="标记 2027 年已全部录入").click()
        expect(page.locator("#coverage")).to_contain_text("本行日历已录入 2027 年全部放假安排")
        page.get_by_role("link", name="看板").click()
        expect(page.locator("#completion-rate")).to_be_visible()
        expect(page.locator(".calendar-gap")).to_have_count(0)
        page.goto(f"{url}/office/calendar?year=2027&lang=en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Working-day calendar · 2027")
        shots(page, "calendar-2027-english")
        assert errors == []


def test_forms_work_with_the_keyboard_and_focus_is_visible(
    browser: Browser, bank: Bank, shots: Shots
) -> None:
    with serve(make_app(bank)) as url:
        page, errors = open_page(browser, shots, "M101")
        page.goto(url + "/login")
        page.locator("#staff_id").focus()
        page.keyboard.type("M101")
        page.keyboard.press("Tab")
        expect(page.locator("#password")).to_be_focused()
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", "")  # visible focus
        page.keyboard.type(PASSWORD)
        shots(page, "login-focus")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/todos"))
        page.keyboard.press("Tab")
        expect(page.locator(".skip")).to_be_focused()  # the skip link comes first, and shows itself
        assert page.locator(".skip").bounding_box()["x"] >= 0  # type: ignore[index]
        page.keyboard.press("Enter")
        expect(page.locator("#main")).to_be_focused()
        page.goto(f"{url}/todos/{bank.todo_id(1, PHONE)}")
        page.locator("#field-contact_phone").focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("13800138000")
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="校验并提交更正")).to_be_focused()
        shots(page, "submit-focused")
        page.keyboard.press("Enter")
        expect(page.locator("#todo-status")).to_have_text("已整改（已验证）")
        assert errors == []


def test_account_manager_path_on_postgresql(browser: Browser, tmp_path: Path, shots: Shots) -> None:
    databases = Databases("postgresql", tmp_path)
    try:
        bank = pg_bank(databases, tmp_path)
        with serve(make_app(bank)) as url:
            page, errors = open_page(browser, shots, "M101")
            log_in(page, url, "M101")
            expect(page.locator("#todo-table")).to_contain_text(key(1))
            correct_phone(page, url, bank.todo_id(1, PHONE), shots)
            assert bank.todo_status(bank.todo_id(1, PHONE)) == "fixed"
            assert errors == []
        bank.store.dispose()
    finally:
        databases.drop_all()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_new_pages_in_each_language(browser: Browser, bank: Bank, shots: Shots, lang: str) -> None:
    """A refused rejection keeps the form; names in the trail; the record's context; help; the print view."""
    said = {
        "zh": {
            "user": "工号",
            "password": "密码",
            "login": "登录",
            "reject": "驳回",
            "submit": "提交决定",
            "note_needed": "驳回申诉须填写意见",
            "context": "记录概况",
            "help": "一项待办的一生",
            "print": "打印视图",
        },
        "en": {
            "user": "Employee number",
            "password": "Password",
            "login": "Log in",
            "reject": "Reject",
            "submit": "Record the decision",
            "note_needed": "A rejection needs a note",
            "context": "The record",
            "help": "The life of a to-do",
            "print": "Print view",
        },
    }[lang]
    todo = bank.todo_id(2, BAD_ID_RULE)
    file_appeal(bank.store, todo, "M101", "证件类型录错，应为港澳居民来往内地通行证")
    with serve(make_app(bank)) as url:
        for who in ("S101", "M101"):
            page, errors = open_page(browser, shots, who, "zh-CN" if lang == "zh" else "en-US")
            page.goto(f"{url}/login?lang={lang}")
            page.get_by_label(said["user"]).fill(who)
            page.get_by_label(said["password"]).fill(PASSWORD)
            page.get_by_role("button", name=said["login"]).click()
            expect(page).not_to_have_url(re.compile(r"/login"))
            if who == "S101":
                page.goto(f"{url}/appeals")
                page.get_by_label(said["reject"], exact=True).check()
                page.get_by_role("button", name=said["submit"]).click()
                expect(page.locator(".appeal .error")).to_contain_text(said["note_needed"])
                expect(page.get_by_label(said["reject"], exact=True)).to_be_checked()  # the form is kept
                shots(page, f"{lang}-rejection-needs-a-note")
                assert [e for e in errors if "/decide" not in e] == [], errors  # the 422 is the point
                continue
            page.goto(f"{url}/todos/{todo}")
            expect(page.locator("#record-context")).to_contain_text(said["context"])
            expect(page.locator("#history")).to_contain_text("张经理")  # the appellant by name
            shots(page, f"{lang}-record-context")
            page.goto(f"{url}/help")
            expect(page.get_by_role("heading", level=2).first).to_contain_text(said["help"])
            shots(page, f"{lang}-help")
            page.goto(f"{url}/todos")
            page.get_by_role("link", name=said["print"]).click()
            page.emulate_media(media="print")
            expect(page.locator("header nav")).to_be_hidden()
            expect(page.locator("#print-table tbody tr")).to_have_count(4)
            shots(page, f"{lang}-print-view")
            page.emulate_media(media="screen")
            page.set_viewport_size({"width": 390, "height": 844})  # a phone: the account manager's pages fit
            for path in ("/todos", f"/todos/{todo}", f"/todos/{bank.todo_id(1, PHONE)}"):
                page.goto(url + path)
                shots(page, f"{lang}-phone{path.replace('/', '-')}")
            assert errors == [], errors
