"""Digests through a real SMTP server (aiosmtpd) and a local WeCom-style webhook, on both backends.

Acceptance (issue 4): 500 to-dos for 20 people give exactly 20 digests per channel; a second run sends
none; an SMTP outage leaves the e-mails queued until the server is back; values are masked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.checks.pipeline import run_suite
from remediation.masking import mask_value
from remediation.notify.outbox import deliver
from remediation.notify.transports import (
    usable_channels,
)
from remediation.store.engines import open_store
from remediation.store.models import Todo
from tests.dbenv import source_engine
from tests.factories import build_source, merchant_row, resident_id
from tests.remediation.notify.helpers import (
    DAY,
    POLICY,
    PORTAL,
    inbox,
    outbox,
    run_remind,
    transports,
)
from tests.servers import SmtpSink, WecomApi
from tests.storedata import add_todos, managers, seed_org, staff_row


def test_500_todos_for_20_people_send_20_digests_per_channel_once(
    bank500: sa.Engine, smtp: SmtpSink, wecom: WecomApi
) -> None:
    store = bank500
    summary = run_remind(store)
    assert (summary.digests, summary.escalations, summary.messages) == (
        20,
        0,
        {"email": 20, "wecom": 20, "inbox": 20},
    )
    assert (summary.due_soon, summary.cards.yellow, summary.cards.red) == (60, 60, 0)
    now = dt.datetime.now(dt.UTC)
    delivered = deliver(store, transports(smtp, wecom), now, POLICY)
    assert (dict(delivered.sent), delivered.retrying, delivered.dead) == (
        {"email": 20, "wecom": 20, "inbox": 20},
        0,
        0,
    )

    people = {p["staff_id"]: p for p in managers(20)}
    assert sorted(smtp.recipients) == sorted(p["email"] for p in people.values())
    subjects = {str(m["To"]): str(m["Subject"]) for m in smtp.messages}
    assert subjects["a002@bank.example"] == "【数据质量问题待办提醒】钱经理：新增 25 项，临期 3 项，超时 3 项"
    assert all(b"Subject: =?utf-8?b?" in raw and raw.isascii() for raw in smtp.raw)  # RFC 2047, base64
    mail = next(m for m in smtp.messages if str(m["To"]) == "a002@bank.example")
    text = mail.get_body().get_content()  # type: ignore[union-attr]
    assert "MER-B2-LEGAL-REP-ID 法定代表人身份证件号码校验不通过" in text and PORTAL + "/" in text
    assert "重点待办（前 10 项）" in text and text.count("[黄牌]") == 3

    assert len(wecom.sent) == 20 and wecom.tokens_issued == 1  # one token for the run
    assert Counter(p["touser"] for p in wecom.sent) == Counter(list(people))  # each to that person alone
    assert all(
        p["msgtype"] == "markdown"
        and p["agentid"] == 1000002
        and "<@" not in p["markdown"]["content"]
        and len(p["markdown"]["content"].encode()) <= 4096
        and PORTAL in p["markdown"]["content"]
        for p in wecom.sent
    )
    assert sorted(m["staff_id"] for m in inbox(store)) == sorted(people)

    again = run_remind(store)
    assert (again.digests, again.messages) == (0, {})
    assert deliver(store, transports(smtp, wecom), now, POLICY).total_sent == 0
    next_day = run_remind(store, DAY + dt.timedelta(days=1))  # nothing new for anyone: nothing at all
    assert (next_day.digests, next_day.messages) == (0, {})
    assert (len(smtp.messages), len(wecom.sent), len(inbox(store))) == (20, 20, 20)


def test_unconfigured_channels_queue_nothing_and_a_person_without_email_gets_the_inbox(
    store: sa.Engine, smtp: SmtpSink
) -> None:
    seed_org(store, [staff_row("A001", "赵经理", "110100", "account_manager", email=None), *managers(2)[1:]])
    add_todos(store, [{"assignee": "A001", "due": DAY}, {"assignee": "A002", "due": DAY}], DAY)
    channels = usable_channels(POLICY.channels, transports(smtp))  # no WeCom webhook configured
    assert channels == ["email", "inbox"]
    run_remind(store, channels=channels)
    assert sorted((m["recipient"], m["channel"], m["address"]) for m in outbox(store)) == [
        ("A001", "inbox", "A001"),
        ("A002", "email", "a002@bank.example"),
        ("A002", "inbox", "A002"),
    ]
    inbox_only = deliver(store, transports(), dt.datetime.now(dt.UTC), POLICY)
    assert (dict(inbox_only.sent), inbox_only.skipped) == ({"inbox": 2}, 1)
    assert [(m["status"], m["attempts"]) for m in outbox(store, "email")] == [("pending", 0)]


def test_a_digest_covers_only_what_happened_since_the_last_one(store: sa.Engine) -> None:
    seed_org(store, managers(2))
    add_todos(store, [{"assignee": "A001", "due": DAY + dt.timedelta(days=20)}], DAY)
    assert run_remind(store, channels=["inbox"]).digests == 1
    add_todos(
        store, [{"key": "102360458129999", "assignee": "A002", "due": DAY + dt.timedelta(days=20)}], DAY
    )
    later = run_remind(store, DAY + dt.timedelta(days=3), channels=["inbox"])
    assert (later.digests, [m["recipient"] for m in outbox(store)]) == (1, ["A001", "A002"])
    assert outbox(store)[1]["subject"] == "【数据质量问题待办提醒】钱经理：新增 1 项，临期 0 项，超时 0 项"


@pytest.fixture
def checked_bank(databases: Any) -> tuple[sa.Engine, str]:
    """A source checked by the real pipeline: a bad ID number and a bad phone at M101, an orphan at S101."""
    source_url = databases.new("source")
    bad_id = resident_id()[:-1] + ("1" if resident_id()[-1] != "1" else "2")
    build_source(
        source_url,
        [
            merchant_row(1),
            merchant_row(2, legal_rep_id_no=bad_id),
            merchant_row(3, contact_phone="12345678901"),
            merchant_row(4, mgr_staff_id="M103", contact_phone="1380013800"),  # M103 left: S101's to-do
        ],
    )
    store = open_store(databases.new("store"))
    suite = next(s for s in load_suites() if s.table == "merchant")
    run_suite(source_engine(source_url), store, suite, DAY)
    return store, bad_id


def test_red_cards_escalate_to_the_head_and_only_masked_values_leave(
    checked_bank: tuple[sa.Engine, str],
) -> None:
    store, bad_id = checked_bank
    with store.connect() as conn:
        owners = Counter(conn.scalars(sa.select(Todo.assignee_staff_id)))
    assert set(owners) == {"M101", "S101"}
    assert run_remind(store, channels=["inbox"]).escalations == 0
    late = run_remind(store, dt.date(2026, 12, 31), channels=["email", "inbox"])  # every to-do is red by now
    assert late.cards.red == sum(owners.values())
    messages = {(m["recipient"], m["channel"]): m for m in outbox(store) if "2026-12-31" in m["dedupe_key"]}
    assert set(messages) == {(s, c) for s in ("M101", "S101", "B001") for c in ("email", "inbox")}
    # M101's red cards go to the sub-branch head S101; S101's own go up to the branch head B001
    assert messages["S101", "inbox"]["subject"].endswith(f"；红牌升级 {owners['M101']} 项")
    assert f"按管户人：M101 张经理 {owners['M101']} 项" in messages["S101", "inbox"]["body"]
    assert messages["B001", "inbox"]["subject"] == (
        f"【数据质量问题待办提醒】钱分行：新增 0 项，临期 0 项，超时 0 项；红牌升级 {owners['S101']} 项"
    )
    assert "红牌升级" not in messages["M101", "inbox"]["subject"]

    deliver(store, transports(), dt.datetime.now(dt.UTC), POLICY)
    texts = [m["subject"] + m["body"] for m in outbox(store)] + [m["body"] for m in inbox(store)]
    masked = mask_value("legal_rep_id_no", bad_id)
    assert any(masked in t for t in texts)
    for raw in (bad_id, "12345678901", "1380013800"):
        assert not any(raw in t for t in texts), raw
