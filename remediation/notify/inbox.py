"""The portal inbox (dq_inbox): a person's digests as the outbox delivered them, newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from remediation.clock import now
from remediation.store.workflow_models import InboxMessage


@dataclass(frozen=True)
class InboxRow:
    id: int
    subject: str
    body: str
    created_at: dt.datetime
    read_at: dt.datetime | None


def inbox_messages(store: sa.Engine, staff_id: str, limit: int = 50) -> list[InboxRow]:
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(
                InboxMessage.id,
                InboxMessage.subject,
                InboxMessage.body,
                InboxMessage.created_at,
                InboxMessage.read_at,
            )
            .where(InboxMessage.staff_id == staff_id)
            .order_by(InboxMessage.id.desc())
            .limit(limit)
        ).all()
    return [InboxRow(*r) for r in rows]


def unread_of(staff_id: InstrumentedAttribute[str]) -> sa.ScalarSelect[int]:
    """How many messages the person in `staff_id` has unread, as a scalar subquery: the session look-up reads it
    with the session (remediation/workflow/accounts.py), for the count in the portal's menu."""
    unread = InboxMessage.staff_id == staff_id, InboxMessage.read_at.is_(None)
    return sa.select(sa.func.count()).select_from(InboxMessage).where(*unread).scalar_subquery()


def mark_read(store: sa.Engine, staff_id: str, message_id: int | None = None) -> int:
    """Mark one message (or all) of this person read; another person's message is never touched."""
    stmt = sa.update(InboxMessage).where(InboxMessage.staff_id == staff_id, InboxMessage.read_at.is_(None))
    if message_id is not None:
        stmt = stmt.where(InboxMessage.id == message_id)
    with store.begin() as conn:
        return int(conn.execute(stmt.values(read_at=now())).rowcount)
