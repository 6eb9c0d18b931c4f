"""The outbox delivers through real SMTP and WeCom peers: back-off after an outage, dead letters after the
last attempt, and two workers never sending one message twice. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from remediation.notify.outbox import deliver
from remediation.notify.transports import (
    Outgoing,
    SmtpTransport,
)
from tests.remediation.notify.helpers import (
    DAY,
    POLICY,
    inbox,
    outbox,
    run_remind,
    transports,
    utc,
)
from tests.servers import SmtpSink, WecomApi, free_port
from tests.storedata import add_todos, managers, seed_org


def test_an_smtp_outage_leaves_mail_queued_until_the_server_is_back(
    bank500: sa.Engine, smtp: SmtpSink, wecom: WecomApi
) -> None:
    store = bank500
    smtp.stop()
    run_remind(store)
    now = dt.datetime.now(dt.UTC)
    down = deliver(store, transports(smtp, wecom), now, POLICY)
    assert (dict(down.sent), down.retrying) == ({"wecom": 20, "inbox": 20}, 20)
    mails = outbox(store, "email")
    assert {(m["status"], m["attempts"], utc(m["next_attempt_at"])) for m in mails} == {
        ("pending", 1, now + dt.timedelta(seconds=60))
    }
    assert all("SMTP 127.0.0.1" in m["last_error"] for m in mails)
    assert deliver(store, transports(smtp, wecom), now + dt.timedelta(seconds=30), POLICY).total_sent == 0

    smtp.start()
    back = deliver(store, transports(smtp, wecom), now + dt.timedelta(seconds=61), POLICY)
    assert (dict(back.sent), back.retrying) == ({"email": 20}, 0)
    assert sorted(smtp.recipients) == sorted(set(smtp.recipients)) and len(smtp.recipients) == 20
    assert {(m["status"], m["attempts"], m["last_error"]) for m in outbox(store, "email")} == {
        ("sent", 2, None)
    }
    assert deliver(store, transports(smtp, wecom), now + dt.timedelta(hours=1), POLICY).total_sent == 0
    assert (len(smtp.messages), len(wecom.sent), len(inbox(store))) == (20, 20, 20)


def test_a_wecom_errcode_is_a_failure_and_retries_end_dead(store: sa.Engine, wecom: WecomApi) -> None:
    seed_org(store, managers(2))
    add_todos(store, [{"assignee": "A001", "due": DAY}, {"assignee": "A002", "due": DAY}], DAY)
    run_remind(store, channels=["wecom"])
    wecom.limited = 6  # WeCom's "api freq out of limit", every time
    policy = dataclasses.replace(POLICY, max_attempts=3, backoff_seconds=10)
    now = dt.datetime.now(dt.UTC)
    first = deliver(store, transports(wecom=wecom), now, policy)
    assert (first.total_sent, first.retrying) == (0, 2)
    assert {m["last_error"] for m in outbox(store)} == {
        "WeCom message/send: errcode 45009: api freq out of limit"
    }
    second = deliver(store, transports(wecom=wecom), now + dt.timedelta(seconds=10), policy)
    third = deliver(store, transports(wecom=wecom), now + dt.timedelta(seconds=30), policy)  # 10 s, then 20 s
    assert (second.retrying, third.dead) == (2, 2)
    assert {(m["status"], m["attempts"]) for m in outbox(store)} == {("dead", 3)}
    assert deliver(store, transports(wecom=wecom), now + dt.timedelta(days=1), policy).dead == 0
    assert wecom.limited == 0 and wecom.sent == []


def test_dead_letters_after_max_attempts_when_smtp_never_answers(store: sa.Engine) -> None:
    seed_org(store, managers(1))
    add_todos(store, [{"assignee": "A001", "due": DAY}], DAY)
    run_remind(store, channels=["email"])
    nobody = {"email": SmtpTransport("127.0.0.1", free_port(), "dqgov@bank.example")}
    policy = dataclasses.replace(POLICY, max_attempts=2, backoff_seconds=0)
    summary = deliver(store, nobody, dt.datetime.now(dt.UTC), policy)  # no back-off: both tries at once
    assert (summary.retrying, summary.dead) == (1, 1)
    assert [(m["status"], m["attempts"]) for m in outbox(store)] == [("dead", 2)]


class Recorder:
    """A transport that only notes what it was given, slowly enough for two workers to overlap."""

    def __init__(self, sent: list[int]) -> None:
        self.sent = sent

    def send(self, message: Outgoing, conn: sa.Connection) -> None:
        time.sleep(0.002)
        self.sent.append(message.id)

    def close(self) -> None:
        pass


def test_two_workers_never_send_the_same_message(bank500: sa.Engine) -> None:
    run_remind(bank500, channels=["email"])
    sent: list[int] = []
    now = dt.datetime.now(dt.UTC)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(deliver, bank500, {"email": Recorder(sent)}, now, POLICY, 5) for _ in range(2)]
        totals = [run.result().total_sent for run in runs]
    assert sum(totals) == len(sent) == len(set(sent)) == 20
