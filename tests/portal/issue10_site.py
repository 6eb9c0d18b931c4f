"""The bank of the issue-10 browser tests (tests/portal/test_issue10_browser.py) and their small helpers.

The conftest bank, plus for 张经理 (M101) records each account manager run works on alone (merchants 20-23,
a letter in the phone number), an area code that no longer exists, a customer with a short phone number, and
an appeal with an evidence file; a campaign limited to 濂溪支行; the T+1 snapshot of the check date, taken
before 王经理 and 吴经理 fix all theirs; and each manager's digest in the inbox.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from expectations.rulebook import load_suites
from portal.i18n import translate
from remediation.checks.corrections import submit_correction
from remediation.checks.pipeline import run_suite
from remediation.checks.writeback import SourceRowUpdate
from remediation.notify.outbox import deliver
from remediation.notify.reminders import remind
from remediation.notify.transports import InboxTransport
from remediation.orchestration.dag_defaults import SNAPSHOT_DAG
from remediation.orchestration.runnow import Trigger, checks_then_snapshot
from remediation.policy import current_policy
from remediation.reporting.snapshots import take_snapshot
from remediation.store.engines import open_store
from remediation.store.models import Todo
from remediation.workdays import WorkdayCalendar
from remediation.workflow.accounts import set_password
from remediation.workflow.appeals import file_appeal
from remediation.workflow.campaigns import create_campaign
from remediation.workflow.evidence import attach
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row
from tests.portal.browser_kit import Shots
from tests.portal.conftest import LOGINS, PASSWORD, Bank, bank_records, key, make_app, serve
from tests.portal.test_language import problems, visible_text

PHONE = "MER-C1-PHONE-FORMAT"
BAD_ID = "MER-P3-LEGAL-REP-ID-VALID"
EXPIRED = "MER-E5-LICENCE-EXPIRED"
AREA = "MER-M3-AREA-CODE-CURRENT"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RUNS = [("zh", "desk"), ("en", "desk"), ("zh", "phone"), ("en", "phone")]  # each its own merchant 20 + i
SHOP = "九江庐山茶社{n}号店有限公司"
AREA_ADDRESS = "江西省九江市湖口县双钟镇石钟山路9号"
EVIDENCE = "新营业执照.pdf"


def said(lang: str, key_: str, **params: object) -> str:
    return translate(lang, key_, **params)


def said_in(page: Page, lang: str) -> None:
    """No English word and no catalogue key on a Chinese page; no key or raw column id on an English one."""
    text = re.sub(r"https?://\S+", " ", visible_text(page.content()))  # a digest's link to the portal
    text = text.replace("e.g.", "for example")  # English prose, not a catalogue key
    found = problems(text, lang)
    assert found == [], (page.url, found)


class SnapshotRunner:
    """Stands in for Airflow in "run now": the check DAGs are left alone, the snapshot DAG takes the day's
    snapshot, as its task does."""

    def __init__(self, store: sa.Engine) -> None:
        self.store = store

    def __call__(self, dag_id: str, day: dt.date) -> None:
        if dag_id == SNAPSHOT_DAG:
            take_snapshot(self.store, day)


@dataclass
class Site:
    url: str
    bank: Bank
    limited: int  # the campaign limited to 濂溪支行 (110200)

    def todo(self, record_key: str, rule_id: str) -> int:
        with self.bank.store.connect() as conn:
            return int(
                conn.execute(
                    sa.select(Todo.id).where(Todo.record_key == record_key, Todo.rule_id == rule_id)
                ).scalar_one()
            )

    def fix(self, record_key: str, rule_id: str, staff_id: str, changes: dict[str, str]) -> None:
        """A correction the way the portal makes one (the source row updated, the record checked again)."""
        source = source_engine(self.bank.source_url)
        outcome = submit_correction(
            self.bank.store,
            source,
            self.todo(record_key, rule_id),
            staff_id,
            changes,
            SourceRowUpdate(source),
            check_date=CHECK_DATE,
        )
        assert outcome.status == "verified", outcome


def site_records() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The conftest bank, plus for 张经理 (M101): four phones with a letter in them (one per account manager
    run), an area code that no longer exists, and a customer with a short phone number."""
    merchants, customers = bank_records()
    for n in range(len(RUNS)):
        name = SHOP.format(n=n)
        merchants.append(
            merchant_row(20 + n, contact_phone=f"157O437207{n}", mer_reg_name=name, settle_acct_name=name)
        )
    merchants.append(merchant_row(30, biz_area_code="369999", biz_address=AREA_ADDRESS))
    customers.append(customer_row(2, inst_code="110100", mgr_staff_id="M101", contact_phone="0792-12"))
    return merchants, customers


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("issue10")
    source_url = f"sqlite:///{folder / 'source.sqlite'}"
    build_source(source_url, *site_records()).dispose()
    store = open_store(f"sqlite:///{folder / 'store.sqlite'}")
    for suite in load_suites():
        run_suite(source_engine(source_url), store, suite, CHECK_DATE)
    for staff_id in LOGINS:
        set_password(store, staff_id, PASSWORD)
    limited = create_campaign(
        store,
        "濂溪支行专项治理",
        CHECK_DATE,
        dt.date(2027, 3, 31),
        0.9,
        institutions=["110200"],
        created_by="D001",
    )
    take_snapshot(store, CHECK_DATE)  # the T+1 figures; the fixes below come after it
    expired = Site("", Bank(source_url, store, folder), 0).todo(key(6), EXPIRED)
    appeal = file_appeal(store, expired, "M101", "营业执照已续期，新证照见附件")
    attach(store, appeal, "M101", EVIDENCE, PDF)  # for the deciders to see (the upload: the AM test)
    policy = current_policy()
    remind(store, CHECK_DATE, policy, WorkdayCalendar(), ["inbox"], "http://dq.bank.example")
    deliver(store, {"inbox": InboxTransport()}, dt.datetime.now(dt.UTC), policy)
    bank = Bank(source_url, store, folder)
    app = make_app(bank, trigger=Trigger(SnapshotRunner(store), dag_ids=checks_then_snapshot))
    with serve(app) as url:
        found = Site(url, bank, limited.id)
        # 王经理 and 吴经理 fix all theirs: a tie at 100%, 张经理 third (1, 1, 3)
        found.fix(key(4), PHONE, "M102", {"contact_phone": "13800138004"})
        found.fix(key(5), PHONE, "M201", {"contact_phone": "13800138005"})
        found.fix("C00000000001", "CUS-C1-PHONE-FORMAT", "M201", {"contact_phone": "0792-8123456"})
        yield found
    store.dispose()


def visit(page: Page, url: str, shots: Shots, step: str, lang: str) -> None:
    page.goto(url)
    shots(page, f"{lang}-{step}")
    said_in(page, lang)


def ranks(page: Page, table: str) -> dict[str, str]:
    """Name → the rank shown, from a ranking table (rank in the first cell, name in the second)."""
    rows = page.locator(f"{table} tbody tr")
    return {
        rows.nth(i).locator("td").nth(1).inner_text().split()[0]: rows.nth(i).locator("td").first.inner_text()
        for i in range(rows.count())
    }
