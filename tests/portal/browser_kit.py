"""What the browser tests share: Chromium (Playwright driving /usr/bin/chromium), numbered screenshots with
the server time of each page, a page per person at a viewport, and logging in through the login form.

Screenshots go to test-artifacts/screenshots/<test>/, with the server time of each page (`Server-Timing`)
in timings.json next to them. A page wider than its viewport fails the step that shows it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect, sync_playwright

from portal.i18n import translate
from tests.portal.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
PHONE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}  # an account manager's phone
LOCALES = {"zh": "zh-CN", "en": "en-US"}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing at /usr/bin/chromium: `make setup` installs it (as root)")
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    yield chromium
    chromium.close()


class Shots:
    """Numbered full-page screenshots and the server time of each page, per test."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        if self.folder.exists():
            for old in self.folder.iterdir():
                old.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.timings: list[dict[str, Any]] = []

    def __call__(self, page: Page, label: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{label}.png"), full_page=True)
        width = page.evaluate("window.innerWidth")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{label}: {overflow}px wider than {width}"

    def watch(self, page: Page, who: str) -> list[str]:
        errors: list[str] = []
        # failed responses are judged below by URL (a refused correction answers 422 on purpose)
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        page.on("pageerror", lambda e: errors.append(str(e)))

        def timed(response: Any) -> None:
            if response.status >= 400 and not (response.status == 422 and response.url.endswith("/correct")):
                errors.append(f"{response.status} {response.url}")
            if response.request.resource_type == "document":
                server = response.headers.get("server-timing", "")
                self.timings.append(
                    {"who": who, "url": response.url, "status": response.status, "server": server}
                )

        page.on("response", timed)
        return errors

    def save(self) -> None:
        (self.folder / "timings.json").write_text(json.dumps(self.timings, indent=1), encoding="utf-8")


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[Shots]:
    found = Shots(request.node.name)
    yield found
    found.save()


def open_page(
    browser: Browser, shots: Shots, who: str, lang: str = "zh-CN", viewport: ViewportSize | None = None
) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport=viewport or VIEWPORT, locale=lang, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page, shots.watch(page, who)


def log_in(page: Page, url: str, staff_id: str) -> None:
    page.goto(url + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("工号").fill(staff_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def log_in_as(page: Page, url: str, staff_id: str, lang: str) -> None:
    """Log in through the form of the language `lang` (zh | en), which the portal then remembers."""
    page.goto(f"{url}/login?lang={lang}")
    page.get_by_label(translate(lang, "login.staff_id")).fill(staff_id)
    page.get_by_label(translate(lang, "login.password")).fill(PASSWORD)
    page.get_by_role("button", name=translate(lang, "login.submit")).click()
    expect(page).not_to_have_url(re.compile(r"/login"))
