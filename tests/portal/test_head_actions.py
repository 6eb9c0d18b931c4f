"""A head's actions on ticked to-dos of their subtree: 催办 (one reminder a day per account manager, through
the outbox, audited). Real server, the session's SQLite bank."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import sqlalchemy as sa

from remediation.notify.outbox import deliver
from remediation.notify.transports import InboxTransport
from remediation.policy import current_policy
from remediation.store.models import RuleRecord
from remediation.store.workflow_models import AuditEntry, OutboxMessage
from tests.checkbank import PHONE
from tests.portal.conftest import BAD_PHONE, Client, Portal, key


def _outbox(portal: Portal) -> list[tuple[str, str, str]]:
    with portal.bank.store.connect() as conn:
        return [
            (r.recipient, r.channel, r.body)
            for r in conn.execute(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like("nudge:%")))
        ]


def test_a_head_reminds_account_managers_once_a_day(portal: Portal) -> None:
    bank = portal.bank
    head = Client(portal.url)
    head.login("S101")
    listing = head.get("/todos").text
    mine, theirs, other = bank.todo_id(1, PHONE), bank.todo_id(4, PHONE), bank.todo_id(5, PHONE)
    assert f'name="todo_id" value="{mine}"' in listing and 'id="nudge-button"' in listing
    done = head.post("/todos/nudge", {"todo_id": [mine, theirs], "back": "rule=MER-C1-PHONE-FORMAT&msg=x"})
    assert done.status == 303 and done.headers["location"] == f"/todos?rule={PHONE}&msg=nudged"
    assert "催办已发出" in head.get("/todos?msg=nudged").text
    sent = _outbox(portal)
    assert {(who, channel) for who, channel, _ in sent} >= {("M101", "inbox"), ("M102", "inbox")}
    body = next(text for who, channel, text in sent if who == "M101" and channel == "inbox")
    assert "孙支行请您尽快处理以下 1 条" in body and "MER-C1-PHONE-FORMAT" in body and BAD_PHONE not in body

    again = head.post("/todos/nudge", {"todo_id": [mine]})  # M101 again the same day: refused, nothing queued
    assert again.status == 409 and "今天已收到过催办" in again.text and "张经理" in again.text
    head.get("/todos?lang=en")
    assert "already had a reminder today" in head.post("/todos/nudge", {"todo_id": [theirs]}).text
    assert len(_outbox(portal)) == len(sent)

    assert head.post("/todos/nudge", {}).status == 409  # nothing ticked: said so
    assert head.post("/todos/nudge", {"todo_id": [other]}).status == 409  # 110200 is not S101's
    assert len(_outbox(portal)) == len(sent)

    with bank.store.connect() as conn:
        entry = conn.execute(
            sa.select(AuditEntry.staff_id, AuditEntry.detail).where(AuditEntry.action == "nudge")
        ).one()
    assert entry.staff_id == "S101" and "M101" in entry.detail and str(theirs) in entry.detail

    manager = Client(portal.url)
    manager.login("M101")
    assert manager.post("/todos/nudge", {"todo_id": [mine]}).status == 403  # a manager cannot remind
    deliver(bank.store, {"inbox": InboxTransport()}, dt.datetime.now(dt.UTC), current_policy())
    inbox = manager.get("/inbox").text
    assert "【催办】" in inbox and f'href="/todos/{mine}"' in inbox


def test_a_head_hands_to_dos_to_another_account_manager_of_the_subtree(portal: Portal) -> None:
    bank = portal.bank
    head = Client(portal.url)
    head.login("S101")
    listing = head.get("/todos").text
    assert 'id="reassign-button"' in listing and '<option value="M102">王经理（M102）' in listing
    assert '<option value="M201">' not in listing and '<option value="M103">' not in listing
    mine, other = bank.todo_id(1, PHONE), bank.todo_id(5, PHONE)
    done = head.post("/todos/reassign", {"todo_id": [mine], "to_staff": "M102"})
    assert done.status == 303 and done.headers["location"] == "/todos?msg=reassigned"
    assert "已转派" in head.get("/todos?msg=reassigned").text
    assert f'href="/todos/{mine}"' in head.get("/todos?assignee=M102").text

    refused = head.post("/todos/reassign", {"todo_id": [mine], "to_staff": "M201"})  # not S101's institution
    assert refused.status == 409 and "不是您所辖机构的在岗客户经理" in refused.text
    assert head.post("/todos/reassign", {"todo_id": [other], "to_staff": "M102"}).status == 409
    head.get("/todos?lang=en")
    assert "Tick the to-dos to hand over first" in head.post("/todos/reassign", {"to_staff": "M102"}).text

    new_owner, old_owner = Client(portal.url), Client(portal.url)
    new_owner.login("M102")
    old_owner.login("M101")
    assert new_owner.get(f"/todos/{mine}").status == 200 and old_owner.get(f"/todos/{mine}").status == 404
    with bank.store.connect() as conn:
        entry = conn.execute(
            sa.select(AuditEntry.staff_id, AuditEntry.detail).where(AuditEntry.action == "reassign")
        ).one()
    assert entry == ("S101", f"to-dos {mine} handed to M102")
    office = Client(portal.url)
    office.login("D001")
    audit_page = office.get("/office/audit").text
    assert f"待办 {mine} 转派给 M102" in audit_page and "转派待办" in audit_page


def test_a_head_exports_the_subtrees_to_dos_as_csv_with_no_live_formula(portal: Portal) -> None:
    bank = portal.bank
    with bank.store.begin() as conn:  # a description a spreadsheet would run as a formula
        conn.execute(
            sa.update(RuleRecord).where(RuleRecord.rule_id == PHONE).values(description='=HYPERLINK("x")')
        )
    head = Client(portal.url)
    head.login("S101")
    assert 'id="csv-link"' in head.get("/todos").text
    answer = head.get("/todos?view=csv&table=merchant")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["机构代码", "机构", "记录类型", "记录编号"]
    keys = {r[3] for r in rows[1:]}
    assert key(1) in keys and key(4) in keys and key(5) not in keys  # 110100 only, not 110200
    phone = next(r for r in rows[1:] if r[3] == key(1) and r[4] == PHONE)
    assert phone[5] == '\'=HYPERLINK("x")' and phone[2] == "收单商户" and phone[13] == "张经理"
    assert BAD_PHONE not in answer.body.decode("utf-8-sig")  # masked as on screen
    english = list(csv.reader(io.StringIO(head.get("/todos?view=csv&lang=en").body.decode("utf-8-sig"))))
    assert english[0][:2] == ["Institution code", "Institution"]
    with bank.store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(AuditEntry.detail == "to-dos csv")) == 2

    manager = Client(portal.url)
    manager.login("M101")
    assert manager.get("/todos?view=csv").status == 404 and 'id="csv-link"' not in manager.get("/todos").text


def test_a_head_sees_which_rules_drive_the_backlog_per_institution(portal: Portal) -> None:
    branch = Client(portal.url)
    branch.login("B001")
    page = branch.get("/breakdown").text
    assert "待办规则分布" in page and 'id="breakdown-table"' in page
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", page, re.S)
    names = [re.sub(r"<[^>]+>", "", r.split("</th>")[0]) for r in rows]
    assert names == [
        "赣江银行浔阳支行",
        "赣江银行濂溪支行",
        "合计",
    ]  # most to-dos first: 110100 has 4 bad phones
    assert f'href="/todos?inst=110100&amp;rule={PHONE}">3</a>' in page  # merchants 1 and 7 (M101), 4 (M102)
    assert f'href="/todos?inst=110200&amp;rule={PHONE}">1</a>' in page
    assert "To-dos by rule" in branch.get("/breakdown?lang=en").text

    head = Client(portal.url)
    head.login("S101")
    own = head.get("/breakdown").text
    assert "赣江银行浔阳支行（本机构）" in own and "濂溪" not in own
    assert head.get("/breakdown?inst=110200").status == 404  # not S101's
    assert 'href="/breakdown?inst=110100"' in head.get("/dashboard").text
    manager = Client(portal.url)
    manager.login("M101")
    assert manager.get("/breakdown").status == 403
