"""Reminders: SLA stages for a date, then one digest per person and channel, queued in the outbox.

`remind` is one transaction: due-soon marks and cards (`remediation.notify.sla`), the digests they cause, and
the outbox rows that carry them commit together or not at all.

A person gets a digest for a date when something happened to their active to-dos since their last
digest: a to-do opened, reopened, refuted or handed to them; one became due soon; one got a card.
A head additionally gets the red cards escalated to them (the active head of the to-do's institution,
or of its parent when the to-do is the head's own). The digest lists the counts by rule, the top items
(masked values only) and a link to the portal. Each outbox row has the dedupe key
`digest:{date}:{staff_id}:{channel}`, and a person who already has a digest for the date is skipped,
so running a date again queues nothing. E-mail needs an address, WeCom a WeCom user id. Nothing is
marked, carded, escalated or queued on a non-working day (the bank's calendar): it waits for the next one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from remediation.clock import now
from remediation.notify.digest import Digest, Escalation, Item, RuleCount, render_text, render_wecom
from remediation.notify.sla import CardSummary, due_soon_limit, mark_due_soon, red_limit, update_cards
from remediation.policy import Policy
from remediation.store.models import ACTIVE_STATUSES, Card, Institution, RuleRecord, Staff, Todo, TodoEvent
from remediation.store.workflow_models import OutboxMessage
from remediation.workdays import WorkdayCalendar

# events that put a to-do on someone's list as "new" (新增)
NEW_EVENTS = ("opened", "reopened", "exemption_lapsed", "verification_failed", "reassigned")
NOTABLE_EVENTS = (*NEW_EVENTS, "due_soon", "card_yellow", "card_red")
OVERDUE_CARDS = (Card.YELLOW.value, Card.RED.value)
CHUNK = 200

_t = cast(sa.Table, Todo.__table__)
_e = cast(sa.Table, TodoEvent.__table__).alias("ev")
_o = cast(sa.Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class RemindSummary:
    as_of: dt.date
    due_soon: int
    cards: CardSummary
    digests: int
    escalations: int
    messages: dict[str, int]  # queued per channel
    working_day: bool = True  # False: a non-working day, when nothing is done


def digest_key(day: dt.date, staff_id: str, channel: str) -> str:
    return f"digest:{day.isoformat()}:{staff_id}:{channel}"


def remind(
    store: sa.Engine,
    as_of: dt.date,
    policy: Policy,
    calendar: WorkdayCalendar,
    channels: Sequence[str],
    portal_url: str,
) -> RemindSummary:
    """Update the SLA stages as of `as_of` and queue that date's digests, in one transaction.

    `channels` are those to queue for (the policy's channels whose transport is configured). On a
    non-working day nothing is marked, carded or queued: the next working day's run covers what waited.
    """
    if not calendar.is_workday(as_of):
        cards = CardSummary(as_of, 0, 0, red_limit(as_of, policy.red_after_overdue_working_days, calendar))
        return RemindSummary(as_of, 0, cards, 0, 0, {}, working_day=False)
    with store.begin() as conn:
        due_soon = mark_due_soon(conn, as_of, policy, calendar)
        cards = update_cards(conn, as_of, policy, calendar)
        stamp = now()  # after the SLA events: the next digest looks only past it
        digests = compose_digests(conn, as_of, policy, calendar, portal_url) if channels else []
        queued = enqueue(conn, digests, channels, stamp)
    return RemindSummary(
        as_of=as_of,
        due_soon=due_soon,
        cards=cards,
        digests=len(digests),
        escalations=sum(d.escalation is not None for d in digests),
        messages=queued,
    )


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def _since_last_digest(
    todo_id: ColumnElement[Any], events: Iterable[str], last_at: ColumnElement[Any]
) -> ColumnElement[bool]:
    return sa.exists().where(
        _e.c.todo_id == todo_id, _e.c.event.in_(list(events)), sa.or_(last_at.is_(None), _e.c.at > last_at)
    )


def compose_digests(
    conn: sa.Connection, as_of: dt.date, policy: Policy, calendar: WorkdayCalendar, portal_url: str
) -> list[Digest]:
    """The digests due for `as_of`: one per person with something new and no digest for the date yet."""
    last = (
        sa.select(_o.c.recipient, sa.func.max(_o.c.created_at).label("at"))
        .where(_o.c.dedupe_key.like("digest:%"))
        .group_by(_o.c.recipient)
        .subquery("last_digest")
    )
    already = sa.select(_o.c.recipient).where(_o.c.dedupe_key.like(f"digest:{as_of.isoformat()}:%"))
    soon = sa.and_(
        _t.c.card == Card.NONE.value,
        _t.c.due_date >= as_of,
        _t.c.due_date <= due_soon_limit(as_of, policy, calendar),
    )
    todos = (
        sa.select(
            _t.c.assignee_staff_id.label("staff_id"),
            _t.c.table_name,
            _t.c.record_key,
            _t.c.rule_id,
            _t.c.due_date,
            _t.c.card,
            _t.c.masked_value,
            _flag(_since_last_digest(_t.c.id, NEW_EVENTS, last.c.at)).label("new"),
            _flag(soon).label("due_soon"),
            _flag(_since_last_digest(_t.c.id, NOTABLE_EVENTS, last.c.at)).label("notable"),
        )
        .select_from(_t.outerjoin(last, last.c.recipient == _t.c.assignee_staff_id))
        .where(
            _t.c.status.in_(ACTIVE_STATUSES),
            _t.c.assignee_staff_id.is_not(None),
            _t.c.assignee_staff_id.not_in(already),
        )
        .cte("todos")
    )
    counts = _counts_by_rule(conn, todos)
    escalations = _escalations(conn, last, already, policy.top_items) if policy.escalate_red_to_head else {}
    notable = {staff for staff, rules in counts.items() if any(r["notable"] for r in rules)}
    staff = _staff_names(conn, notable | set(escalations), active_only=True)  # nobody else is told
    people = sorted(staff)
    assignees = {who for per_assignee, _ in escalations.values() for who, _ in per_assignee}
    names = _staff_names(conn, assignees, active_only=False)
    items = _top_items(conn, todos, people, policy.top_items)
    descriptions = _rule_descriptions(conn)
    return [
        _digest(
            staff_id,
            staff,
            as_of,
            policy,
            portal_url,
            counts.get(staff_id, []),
            [_item(row, descriptions) for row in items.get(staff_id, [])],
            descriptions,
            escalations.get(staff_id),
            names,
        )
        for staff_id in people
    ]


def _digest(
    staff_id: str,
    staff: dict[str, str],
    as_of: dt.date,
    policy: Policy,
    portal_url: str,
    rules: list[dict[str, Any]],
    items: list[Item],
    descriptions: dict[str, str],
    escalation: tuple[list[tuple[str, int]], list[dict[str, Any]]] | None,
    names: dict[str, str],
) -> Digest:
    by_rule = tuple(
        RuleCount(
            r["rule_id"],
            descriptions.get(r["rule_id"], ""),
            r["active"],
            r["new"],
            r["due_soon"],
            r["overdue"],
        )
        for r in sorted(rules, key=lambda r: (-r["overdue"], -r["active"], r["rule_id"]))
    )
    escalated = None
    if escalation is not None:
        per_assignee, red_items = escalation
        escalated = Escalation(
            count=sum(n for _, n in per_assignee),
            by_assignee=tuple((f"{who} {names.get(who, '')}".strip(), n) for who, n in per_assignee),
            items=tuple(
                _item(
                    {**row, "assignee": f"{row['assignee']} {names.get(row['assignee'], '')}".strip()},
                    descriptions,
                )
                for row in red_items
            ),
        )
    return Digest(
        staff_id=staff_id,
        staff_name=staff[staff_id],
        as_of=as_of,
        active=sum(r.active for r in by_rule),
        new=sum(r.new for r in by_rule),
        due_soon=sum(r.due_soon for r in by_rule),
        overdue=sum(r.overdue for r in by_rule),
        red=sum(r["red"] for r in rules),
        remind_days=policy.remind_working_days_before_due,
        red_after_days=policy.red_after_overdue_working_days,
        by_rule=by_rule,
        items=tuple(items),
        link=portal_url.rstrip("/") + "/",
        escalation=escalated,
    )


def _counts_by_rule(conn: sa.Connection, todos: sa.CTE) -> dict[str, list[dict[str, Any]]]:
    c = todos.c
    rows = conn.execute(
        sa.select(
            c.staff_id,
            c.rule_id,
            sa.func.count().label("active"),
            sa.func.sum(c.new).label("new"),
            sa.func.sum(c.due_soon).label("due_soon"),
            sa.func.sum(_flag(c.card.in_(OVERDUE_CARDS))).label("overdue"),
            sa.func.sum(_flag(c.card == Card.RED.value)).label("red"),
            sa.func.sum(c.notable).label("notable"),
        ).group_by(c.staff_id, c.rule_id)
    ).mappings()
    counts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        counts[row["staff_id"]].append(
            {k: (int(v) if k not in ("staff_id", "rule_id") else v) for k, v in row.items()}
        )
    return counts


def _top_items(
    conn: sa.Connection, todos: sa.CTE, people: Sequence[str], limit: int
) -> dict[str, list[dict[str, Any]]]:
    c = todos.c
    rank = sa.case(
        (c.card == Card.RED.value, 0),
        (c.card == Card.YELLOW.value, 1),
        (c.due_soon == 1, 2),
        (c.new == 1, 3),
        else_=4,
    )
    ranked = sa.select(
        c.staff_id,
        c.table_name,
        c.record_key,
        c.rule_id,
        c.due_date,
        c.card,
        c.masked_value,
        c.due_soon,
        c.new,
        sa.func.row_number()
        .over(partition_by=c.staff_id, order_by=(rank, c.due_date, c.rule_id, c.record_key))
        .label("rn"),
    ).subquery("ranked")
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(people), CHUNK):
        rows = conn.execute(
            sa.select(ranked)
            .where(ranked.c.rn <= limit, ranked.c.staff_id.in_(people[start : start + CHUNK]))
            .order_by(ranked.c.staff_id, ranked.c.rn)
        ).mappings()
        for row in rows:
            items[row["staff_id"]].append(dict(row))
    return items


def _escalations(
    conn: sa.Connection, last: sa.Subquery, already: sa.Select[Any], limit: int
) -> dict[str, tuple[list[tuple[str, int]], list[dict[str, Any]]]]:
    """Head → (red cards per assignee, top items) for red cards since the head's last digest."""
    inst = cast(sa.Table, Institution.__table__)
    i, p = inst.alias("i"), inst.alias("p")
    head = sa.case(
        (i.c.fallback_staff_id == _t.c.assignee_staff_id, p.c.fallback_staff_id),
        else_=i.c.fallback_staff_id,
    )
    reds = (
        sa.select(
            _t.c.id,
            head.label("head"),
            _t.c.assignee_staff_id.label("assignee"),
            _t.c.table_name,
            _t.c.record_key,
            _t.c.rule_id,
            _t.c.due_date,
            _t.c.card,
            _t.c.masked_value,
        )
        .select_from(
            _t.join(i, i.c.inst_code == _t.c.inst_code).outerjoin(p, p.c.inst_code == i.c.parent_code)
        )
        .where(_t.c.status.in_(ACTIVE_STATUSES), _t.c.card == Card.RED.value)
        .subquery("reds")
    )
    escalated = (
        sa.select(reds)
        .select_from(reds.outerjoin(last, last.c.recipient == reds.c.head))
        .where(
            reds.c.head.is_not(None),
            reds.c.head.is_distinct_from(reds.c.assignee),
            reds.c.head.not_in(already),
            _since_last_digest(reds.c.id, ("card_red",), last.c.at),
        )
        .cte("escalated")
    )
    c = escalated.c
    per_assignee: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for head_id, assignee, n in conn.execute(
        sa.select(c.head, c.assignee, sa.func.count())
        .group_by(c.head, c.assignee)
        .order_by(c.head, sa.func.count().desc(), c.assignee)
    ):
        per_assignee[head_id].append((assignee or "", int(n)))
    ranked = sa.select(
        escalated,
        sa.func.row_number()
        .over(partition_by=c.head, order_by=(c.due_date, c.assignee, c.rule_id, c.record_key))
        .label("rn"),
    ).subquery("ranked_red")
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(
        sa.select(ranked).where(ranked.c.rn <= limit).order_by(ranked.c.head, ranked.c.rn)
    ).mappings():
        items[row["head"]].append({**row, "due_soon": 0, "new": 0})
    return {h: (per_assignee[h], items[h]) for h in per_assignee}


def _staff_names(conn: sa.Connection, people: set[str], active_only: bool) -> dict[str, str]:
    """Staff id → name for those of `people` in dq_staff (and active, if asked)."""
    query = sa.select(Staff.staff_id, Staff.staff_name).where(Staff.staff_id.in_(people))
    if active_only:
        query = query.where(Staff.active.is_(True))
    return {staff_id: name for staff_id, name in conn.execute(query)} if people else {}


def _rule_descriptions(conn: sa.Connection) -> dict[str, str]:
    return {
        rule_id: text for rule_id, text in conn.execute(sa.select(RuleRecord.rule_id, RuleRecord.description))
    }


def _item(row: dict[str, Any], descriptions: dict[str, str]) -> Item:
    return Item(
        table=row["table_name"],
        record_key=row["record_key"],
        rule_id=row["rule_id"],
        description=descriptions.get(row["rule_id"], ""),
        due_date=row["due_date"],
        card=row["card"],
        due_soon=bool(row["due_soon"]),
        new=bool(row["new"]),
        masked_value=row["masked_value"],
        assignee=row.get("assignee"),
    )


def enqueue(
    conn: sa.Connection, digests: Sequence[Digest], channels: Sequence[str], now: dt.datetime
) -> dict[str, int]:
    """Queue each digest on each channel the person can be reached on; returns queued rows per channel.

    `now` becomes the rows' `created_at`: the next digest of the person covers events after it.
    """
    if not digests:
        return {}
    addresses = {
        row.staff_id: row
        for row in conn.execute(
            sa.select(Staff.staff_id, Staff.email, Staff.wecom_userid).where(
                Staff.staff_id.in_([d.staff_id for d in digests])
            )
        )
    }
    rows: list[dict[str, Any]] = []
    for digest in digests:
        person = addresses[digest.staff_id]
        for channel in channels:
            address = {"email": person.email, "wecom": person.wecom_userid, "inbox": digest.staff_id}[channel]
            if not address:
                continue
            body = render_wecom(digest, None) if channel == "wecom" else render_text(digest)  # to them alone
            rows.append(
                {
                    "dedupe_key": digest_key(digest.as_of, digest.staff_id, channel),
                    "channel": channel,
                    "recipient": digest.staff_id,
                    "address": address,
                    "subject": digest.subject[:300],
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    queued: dict[str, int] = defaultdict(int)
    for start in range(0, len(rows), CHUNK):
        stmt = (
            insert(_o)
            .values(rows[start : start + CHUNK])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_o.c.channel)
        )
        for (channel,) in conn.execute(stmt):
            queued[channel] += 1
    return dict(queued)
