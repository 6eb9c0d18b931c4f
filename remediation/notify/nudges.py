"""催办: a head's reminder to account managers about to-dos the head chose, queued in the outbox.

One reminder a day per account manager: each outbox row's dedupe key is `nudge:{day}:{staff_id}:{channel}`,
and a manager who already has one for the day gets no second one (the head is told who was skipped). The
reminder lists the chosen to-dos in the digest's line format, so the portal inbox links each line to its to-do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa

from remediation.errors import InvalidInput, InvalidState
from remediation.notify.digest import Item, item_line
from remediation.reporting.queries import TodoScope
from remediation.store.models import ACTIVE_STATUSES, RuleRecord, Staff, Todo
from remediation.store.workflow_models import OutboxMessage

SUBJECT_PREFIX = "【催办】"
MAX_TODOS = 200  # chosen at once; the to-do list shows fewer on a page

_o = cast(sa.Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class NudgeSummary:
    reminded: dict[str, int]  # staff id → to-dos named in their reminder
    already: tuple[str, ...]  # staff ids reminded earlier the same day: skipped
    names: dict[str, str]  # staff id → name, for the head's confirmation


def nudge_key(day: dt.date, staff_id: str, channel: str) -> str:
    return f"nudge:{day.isoformat()}:{staff_id}:{channel}"


def nudge(
    conn: sa.Connection,
    head: tuple[str, str],
    scope: TodoScope,
    todo_ids: Sequence[int],
    day: dt.date,
    channels: Sequence[str],
    portal_url: str,
    now: dt.datetime,
) -> NudgeSummary:
    """Queue one reminder per account manager of the chosen active to-dos in `scope` (those routed to a head
    or assigned to the head are left out). `head` is (staff id, name); raises InvalidInput when none of the
    chosen to-dos has an account manager to remind."""
    if not todo_ids:
        raise InvalidInput("choose at least one to-do to remind about", code="nudge_none_chosen")
    if len(todo_ids) > MAX_TODOS:
        raise InvalidInput(f"at most {MAX_TODOS} to-dos at once", code="nudge_too_many", n=MAX_TODOS)
    rows = conn.execute(
        sa.select(
            Todo.id,
            Todo.table_name,
            Todo.record_key,
            Todo.rule_id,
            Todo.due_date,
            Todo.card,
            Todo.masked_value,
            Todo.assignee_staff_id,
            sa.func.coalesce(RuleRecord.description, "").label("description"),
        )
        .outerjoin(RuleRecord, RuleRecord.rule_id == Todo.rule_id)
        .where(
            scope.clause(),
            Todo.id.in_(sorted(set(todo_ids))),
            Todo.status.in_(ACTIVE_STATUSES),
            Todo.routed_to_head.is_(False),
            Todo.assignee_staff_id.is_not(None),
            Todo.assignee_staff_id != head[0],
        )
        .order_by(Todo.due_date, Todo.id)
    ).all()
    if not rows:
        raise InvalidInput(
            "none of the chosen to-dos is active with an account manager to remind", code="nudge_nobody"
        )
    per_person: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        per_person[row.assignee_staff_id].append(row)
    people = {
        r.staff_id: r
        for r in conn.execute(
            sa.select(Staff.staff_id, Staff.staff_name, Staff.email, Staff.wecom_userid).where(
                Staff.staff_id.in_(sorted(per_person))
            )
        )
    }
    today_prefix = f"nudge:{day.isoformat()}:"
    already = {
        key.split(":")[2]
        for (key,) in conn.execute(
            sa.select(_o.c.dedupe_key).where(
                _o.c.dedupe_key.in_([nudge_key(day, s, c) for s in per_person for c in ("inbox", *channels)])
            )
        )
        if key.startswith(today_prefix)
    }
    reminded: dict[str, int] = {}
    for staff_id, todos in per_person.items():
        if staff_id in already:
            continue
        person = people.get(staff_id)
        name = person.staff_name if person else staff_id
        subject = f"{SUBJECT_PREFIX}{head[1]}提醒您尽快处理 {len(todos)} 条数据质量问题待办"
        body = _body(name, head[1], todos, portal_url)
        addresses = {
            "inbox": staff_id,
            "email": person.email if person else None,
            "wecom": person.wecom_userid if person else None,
        }
        for channel in dict.fromkeys(("inbox", *channels)):
            address = addresses.get(channel)
            if not address:
                continue
            conn.execute(
                sa.insert(_o).values(
                    dedupe_key=nudge_key(day, staff_id, channel),
                    channel=channel,
                    recipient=staff_id,
                    address=address,
                    subject=subject[:300],
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        reminded[staff_id] = len(todos)
    names = {s: (people[s].staff_name if s in people else s) for s in per_person}
    if not reminded:
        who = "、".join(names[s] for s in sorted(already))
        raise InvalidState(
            f"{who} already had a reminder today: one a day per person", code="nudge_already", names=who
        )
    return NudgeSummary(reminded, tuple(sorted(already)), names)


def _body(name: str, head_name: str, todos: list[Any], portal_url: str) -> str:
    lines = [f"{name}，您好：", "", f"{head_name}请您尽快处理以下 {len(todos)} 条数据质量问题待办：", ""]
    for i, row in enumerate(todos, 1):
        item = Item(
            table=row.table_name,
            record_key=row.record_key,
            rule_id=row.rule_id,
            description=row.description,
            due_date=row.due_date,
            card=row.card,
            due_soon=False,
            new=False,
            masked_value=row.masked_value,
        )
        lines.append(f"  {i}. {item_line(item)}")
    lines += ["", f"请登录数据质量治理平台处理：{portal_url.rstrip('/')}/todos", "（个人信息已按规定脱敏。）"]
    return "\n".join(lines) + "\n"
