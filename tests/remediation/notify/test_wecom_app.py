"""WeCom application messages against a local server that speaks the API (token expiry, rate limits,
unknown users); the group bot carries only the data office's alerts. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from remediation.notify.alerts import alert_channels, alert_data_office
from remediation.notify.outbox import deliver
from remediation.notify.transports import transports_from_settings
from remediation.notify.wecom_app import WecomAppTransport
from remediation.store.models import Staff
from tests.remediation.notify.helpers import DAY, POLICY, outbox, run_remind, transports
from tests.servers import WecomApi, WecomSink
from tests.storedata import add_todos, managers, seed_org, staff_row


def test_a_token_that_expires_mid_run_is_renewed_and_nothing_is_sent_twice(
    bank500: sa.Engine, wecom: WecomApi
) -> None:
    run_remind(bank500, channels=["wecom"])
    wecom.expire_after = 7  # the token runs out after the 7th message
    wecom.limited = 0
    now = dt.datetime.now(dt.UTC)
    done = deliver(bank500, transports(wecom=wecom), now, POLICY)
    assert (dict(done.sent), done.retrying, done.dead) == ({"wecom": 20}, 0, 0)
    assert wecom.tokens_issued == 2 and len(wecom.sent) == 20
    assert len({m["touser"] for m in wecom.sent}) == 20  # each person once
    assert deliver(bank500, transports(wecom=wecom), now + dt.timedelta(hours=1), POLICY).total_sent == 0
    assert len(wecom.sent) == 20


def test_a_rate_limit_retries_through_the_outbox_and_an_unknown_user_is_dead_at_once(
    store: sa.Engine, wecom: WecomApi
) -> None:
    people = managers(3)
    seed_org(store, people)
    with store.begin() as conn:
        conn.execute(sa.update(Staff).where(Staff.staff_id == "A003").values(wecom_userid="left-the-bank"))
    add_todos(store, [{"assignee": p["staff_id"], "due": DAY} for p in people], DAY)
    run_remind(store, channels=["wecom"])
    wecom.users = {"A001", "A002"}
    wecom.limited = 1
    now = dt.datetime.now(dt.UTC)
    first = deliver(store, transports(wecom=wecom), now, POLICY)
    assert (first.total_sent, first.retrying, first.dead) == (1, 1, 1)
    errors = {m["address"]: (m["status"], m["last_error"]) for m in outbox(store, "wecom")}
    assert errors["left-the-bank"] == (
        "dead",
        "WeCom message/send: unknown user left-the-bank: errcode 81013: user & party & tag all invalid",
    )
    assert errors["A001"] == ("pending", "WeCom message/send: errcode 45009: api freq out of limit")
    later = deliver(store, transports(wecom=wecom), now + dt.timedelta(seconds=61), POLICY)
    assert (later.total_sent, later.dead) == (1, 0)
    assert sorted(m["touser"] for m in wecom.sent) == ["A001", "A002"]


def test_settings_make_the_app_channel_and_alerts_go_to_the_group_bot_only(
    store: sa.Engine, wecom: WecomApi, wecom_bot: WecomSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**wecom.env(), **wecom_bot.env()}.items():
        monkeypatch.setenv(name, value)
    found = transports_from_settings()
    assert isinstance(found["wecom"], WecomAppTransport) and "wecom_bot" in found
    assert "wecom_bot" in alert_channels() and "wecom" not in alert_channels()
    seed_org(store, [staff_row("D002", "数据二", "100000", "data_office")])
    with store.begin() as conn:
        alert_data_office(
            conn,
            "run-9",
            "检查运行被拦截",
            "merchant 记录数骤降",
            dt.datetime.now(dt.UTC),
            channels=["wecom_bot"],
        )
    deliver(store, {"wecom_bot": found["wecom_bot"]}, dt.datetime.now(dt.UTC), POLICY)
    assert wecom_bot.posts and all("merchant 记录数骤降" in p["markdown"]["content"] for p in wecom_bot.posts)
    assert wecom.sent == []  # the application carries digests only
