"""催办 and 转派 in headless Chromium at 1366×768, in each language: a head ticks to-dos on the list,
reminds their account manager (a second reminder the same day is refused), and hands one to another
account manager. Screenshots go to test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from remediation.store.models import Todo
from tests.portal.browser_kit import Shots, browser, open_page, playwright, shots  # noqa: F401
from tests.portal.conftest import PASSWORD, Bank, make_app, serve
from tests.portal.test_browser import PHONE

SAID = {
    "zh": {
        "user": "工号",
        "password": "密码",
        "login": "登录",
        "nudge": "催办",
        "nudged": "催办已发出",
        "again": "今天已收到过催办",
        "to": "转派给",
        "handover": "转派",
        "handed": "已转派",
    },
    "en": {
        "user": "Employee number",
        "password": "Password",
        "login": "Log in",
        "nudge": "Send a reminder",
        "nudged": "Reminder sent",
        "again": "already had a reminder today",
        "to": "Hand over to",
        "handover": "Hand over",
        "handed": "Handed over",
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_head_reminds_and_hands_over_in_each_language(
    browser: Browser,  # noqa: F811
    bank: Bank,
    shots: Shots,  # noqa: F811
    lang: str,
) -> None:
    said = SAID[lang]
    reminded, handed = bank.todo_id(1, PHONE), bank.todo_id(7, PHONE)
    with serve(make_app(bank)) as url:
        page, errors = open_page(browser, shots, "S101", "zh-CN" if lang == "zh" else "en-US")
        page.goto(f"{url}/login?lang={lang}")
        page.get_by_label(said["user"]).fill("S101")
        page.get_by_label(said["password"]).fill(PASSWORD)
        page.get_by_role("button", name=said["login"]).click()
        expect(page).not_to_have_url(re.compile(r"/login"))

        page.goto(f"{url}/todos")
        page.locator(f'input[name="todo_id"][value="{reminded}"]').check()
        shots(page, f"{lang}-ticked")
        page.get_by_role("button", name=said["nudge"], exact=True).click()
        expect(page.locator(".flash")).to_contain_text(said["nudged"])
        shots(page, f"{lang}-reminded")
        page.locator(f'input[name="todo_id"][value="{reminded}"]').check()
        page.get_by_role("button", name=said["nudge"], exact=True).click()
        expect(page.locator("main")).to_contain_text(said["again"])
        expect(page.locator("main")).to_contain_text("张经理")
        shots(page, f"{lang}-second-reminder-refused")

        page.goto(f"{url}/todos")
        page.locator(f'input[name="todo_id"][value="{handed}"]').check()
        page.get_by_label(said["to"]).select_option("M102")
        page.get_by_role("button", name=said["handover"], exact=True).click()
        expect(page.locator(".flash")).to_contain_text(said["handed"])
        row = page.locator("#todo-table tbody tr", has=page.locator(f'a[href="/todos/{handed}"]'))
        expect(row).to_contain_text("王经理")
        expect(row.locator(".handed-over")).to_have_count(1)
        shots(page, f"{lang}-handed-over")
        assert [e for e in errors if "/todos/nudge" not in e] == [], errors  # the 409 is the point
    with bank.store.connect() as conn:
        owner = conn.scalar(sa.select(Todo.assignee_staff_id).where(Todo.id == handed))
    assert owner == "M102"
