"""What the notification tests share: the policy and calendar, reminders for a day, transports to the
test servers, and readers of the outbox and the inbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from remediation.notify.reminders import RemindSummary, remind
from remediation.notify.transports import (
    InboxTransport,
    SmtpTransport,
    Transport,
)
from remediation.notify.wecom_app import WecomAppTransport
from remediation.policy import current_policy
from remediation.store.workflow_models import InboxMessage, OutboxMessage
from remediation.workdays import WorkdayCalendar
from tests.factories import CHECK_DATE
from tests.servers import SmtpSink, WecomApi

POLICY = current_policy()  # top 10 items, 8 attempts, back-off 60 s doubling
CAL = WorkdayCalendar()
PORTAL = "http://dq.bank.example:8000"
ALL = ("email", "wecom", "inbox")
DAY = CHECK_DATE  # Friday 20 November 2026


def run_remind(
    store: sa.Engine, day: dt.date = DAY, channels: Sequence[str] = ALL, **policy: Any
) -> RemindSummary:
    return remind(store, day, dataclasses.replace(POLICY, **policy), CAL, list(channels), PORTAL)


def utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC


def outbox(store: sa.Engine, channel: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def inbox(store: sa.Engine) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(InboxMessage).order_by(InboxMessage.id)).mappings()]


def transports(smtp: SmtpSink | None = None, wecom: WecomApi | None = None) -> dict[str, Transport]:
    found: dict[str, Transport] = {"inbox": InboxTransport()}
    if smtp:
        found["email"] = SmtpTransport("127.0.0.1", smtp.port, "数据质量治理平台 <dqgov@bank.example>")
    if wecom:
        found["wecom"] = WecomAppTransport(wecom.url, wecom.CORP, 1000002, wecom.SECRET)
    return found
