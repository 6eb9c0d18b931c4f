"""Deliver the transactional outbox (dq_outbox): claim due messages, send them, record the outcome.

A worker claims a batch in one short statement: it pushes the batch's `next_attempt_at` a lease ahead,
so no other worker takes the same messages (on PostgreSQL the claim also skips rows another worker has
locked, `FOR UPDATE SKIP LOCKED`). Each message is then sent and marked in a transaction of its own:
`sent`, or one more attempt with exponential back-off (`backoff_seconds × 2^(attempts − 1)`), or
`dead` after `max_attempts` (or at once when the transport says it never will deliver it). A worker that dies mid-batch leaves its messages to be taken again when
the lease runs out, so e-mail and WeCom are delivered at least once; the inbox row is written in the
transaction that marks its message sent, so it is delivered exactly once.

Messages of a channel without a transport stay pending and are counted as skipped.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from remediation.notify.transports import DeliveryError, Outgoing, Transport
from remediation.policy import Policy
from remediation.store.workflow_models import OutboxMessage

BATCH = 50
LEASE = dt.timedelta(minutes=15)  # longer than a batch of sends can take (50 × 10 s timeouts)

_o = cast(sa.Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class DeliverySummary:
    sent: Mapping[str, int] = field(default_factory=dict)  # per channel
    retrying: int = 0  # failed this time, due again after the back-off
    dead: int = 0  # failed for the last allowed time
    skipped: int = 0  # due, but their channel has no transport

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())


def deliver(
    store: sa.Engine,
    transports: Mapping[str, Transport],
    now: dt.datetime,
    policy: Policy,
    batch: int = BATCH,
) -> DeliverySummary:
    """Send every message due at `now` (timezone-aware) through the transport of its channel, in batches."""
    now = now.astimezone(dt.UTC)  # SQLite compares the stored UTC text
    sent: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    try:
        while claimed := _claim(store, list(transports), now, batch):
            for message, attempts in claimed:
                outcome = _send_one(store, transports[message.channel], message, attempts, now, policy)
                if outcome == "sent":
                    sent[message.channel] += 1
                else:
                    outcomes[outcome] += 1
    finally:
        for transport in transports.values():
            transport.close()
    with store.connect() as conn:
        skipped = conn.scalar(
            sa.select(sa.func.count())
            .select_from(_o)
            .where(
                _o.c.status == "pending", _o.c.next_attempt_at <= now, _o.c.channel.not_in(list(transports))
            )
        )
    return DeliverySummary(dict(sent), outcomes["retrying"], outcomes["dead"], skipped or 0)


def _claim(store: sa.Engine, channels: list[str], now: dt.datetime, batch: int) -> list[tuple[Outgoing, int]]:
    due = (
        sa.select(_o.c.id)
        .where(_o.c.status == "pending", _o.c.next_attempt_at <= now, _o.c.channel.in_(channels))
        .order_by(_o.c.next_attempt_at, _o.c.id)
        .limit(batch)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite runs one writer at a time anyway
    )
    with store.begin() as conn:
        rows = conn.execute(
            sa.update(_o)
            .where(_o.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + LEASE)
            .returning(
                _o.c.id, _o.c.channel, _o.c.recipient, _o.c.address, _o.c.subject, _o.c.body, _o.c.attempts
            )
        ).all()
    return [
        (Outgoing(r.id, r.channel, r.recipient, r.address, r.subject, r.body), r.attempts)
        for r in sorted(rows, key=lambda r: r.id)
    ]


def _send_one(
    store: sa.Engine,
    transport: Transport,
    message: Outgoing,
    attempts: int,
    now: dt.datetime,
    policy: Policy,
) -> str:
    try:
        with store.begin() as conn:
            transport.send(message, conn)
            conn.execute(
                sa.update(_o)
                .where(_o.c.id == message.id)
                .values(status="sent", sent_at=now, attempts=attempts + 1, last_error=None)
            )
        return "sent"
    except SQLAlchemyError:
        raise  # the store itself is failing: stop, the lease gives the message back later
    except Exception as exc:
        error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        permanent = isinstance(exc, DeliveryError) and exc.permanent
    tried = attempts + 1
    dead = tried >= policy.max_attempts or permanent
    backoff = dt.timedelta(seconds=policy.backoff_seconds * 2 ** (tried - 1))
    with store.begin() as conn:
        conn.execute(
            sa.update(_o)
            .where(_o.c.id == message.id)
            .values(
                status="dead" if dead else "pending",
                attempts=tried,
                last_error=error[:2000],
                next_attempt_at=now if dead else now + backoff,
            )
        )
    return "dead" if dead else "retrying"
