"""The rule breakdown within a campaign: a campaign limited to some institutions, record types or rules shows
only those, as the dashboard counts them (SQLite and PostgreSQL, through the real server)."""

from __future__ import annotations

import datetime as dt
import re

from remediation.workflow.campaigns import create_campaign
from tests.checkbank import PHONE
from tests.factories import CHECK_DATE
from tests.portal.conftest import Bank, Client, make_app, serve

XUNYANG, LIANXI = "赣江银行浔阳支行", "赣江银行濂溪支行"


def _table(page: str) -> tuple[list[str], list[str]]:
    """The breakdown's rows (institution names, the total last) and its rule columns."""
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", page, re.S)
    names = [re.sub(r"<[^>]+>", "", r.split("</th>")[0]) for r in rows]
    return names, re.findall(r'<span class="rule-id">([^<]+)</span>', page)


def test_a_limited_campaign_breaks_down_only_its_institutions_types_and_rules(any_bank: Bank) -> None:
    store, start, end = any_bank.store, CHECK_DATE - dt.timedelta(days=30), CHECK_DATE + dt.timedelta(days=60)
    lianxi = create_campaign(store, "濂溪支行专项", start, end, 0.9, institutions=["110200"])
    customers = create_campaign(store, "对公客户专项", start, end, 0.9, tables=["customer_org"])
    phones = create_campaign(store, "浔阳手机号专项", start, end, 0.9, rules=[PHONE], institutions=["110100"])
    with serve(make_app(any_bank)) as url:
        branch = Client(url)
        branch.login("B001")
        names, rules = _table(branch.get("/breakdown").text)  # the default campaign: the whole bank
        assert names == [XUNYANG, LIANXI, "合计"]
        assert PHONE in rules and any(r.startswith("CUS") for r in rules) and len(rules) >= 3

        page = branch.get(f"/breakdown?campaign={lianxi.id}").text
        names, rules = _table(page)
        assert names == [LIANXI, "合计"]  # 浔阳 is outside the campaign: not listed, not counted
        assert f'href="/todos?inst=110200&amp;rule={PHONE}">1</a>' in page
        assert f'<option value="{lianxi.id}" selected>' in page

        names, rules = _table(branch.get(f"/breakdown?campaign={customers.id}").text)
        assert names == [LIANXI, XUNYANG, "合计"] and rules and all(r.startswith("CUS") for r in rules)

        page = branch.get(f"/breakdown?campaign={phones.id}").text
        names, rules = _table(page)
        assert names == [XUNYANG, "合计"] and rules == [PHONE]
        assert f'href="/todos?inst=110100&amp;rule={PHONE}">3</a>' in page
        assert f'href="/breakdown?inst=110100&amp;campaign={phones.id}"' not in page  # 110100 has no children
        dashboard = branch.get(f"/dashboard?campaign={phones.id}").text
        assert f'href="/breakdown?inst=110000&amp;campaign={phones.id}"' in dashboard

        assert branch.get("/breakdown?campaign=999").status == 404
