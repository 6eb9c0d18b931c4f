"""Alerts to the data office (数据管理部门) through the outbox: a stopped run, source defects.

An alert is queued in the caller's transaction, one row per active member of the data office and
channel (the policy's channels that have a transport configured; the portal inbox always), with a
dedupe key, so queuing the same alert again queues nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from remediation.policy import current_policy
from remediation.store.models import Staff
from remediation.store.workflow_models import OutboxMessage


def alert_channels() -> list[str]:
    from remediation.notify.transports import transports_from_settings, usable_channels

    try:
        transports = transports_from_settings()
        channels = usable_channels(current_policy().channels, transports)
    except Exception:  # a broken SMTP/WeCom setting must not hide the alert: the inbox always works
        return ["inbox"]
    if "wecom" in channels and "wecom_bot" in transports:
        channels[channels.index("wecom")] = "wecom_bot"  # run alerts go to the data office's group chat
    return channels or ["inbox"]


def alert_data_office(
    conn: sa.Connection,
    key: str,
    subject: str,
    body: str,
    at: dt.datetime,
    channels: Sequence[str] | None = None,
) -> int:
    """Queue `subject`/`body` for every active member of the data office; returns the rows queued."""
    people = conn.execute(
        sa.select(Staff.staff_id, Staff.email, Staff.wecom_userid).where(
            Staff.position == "data_office", Staff.active.is_(True)
        )
    ).all()
    rows = []
    for person in people:
        for channel in channels or alert_channels():
            address = {
                "email": person.email,
                "wecom": person.wecom_userid,
                "wecom_bot": person.wecom_userid,
                "inbox": person.staff_id,
            }.get(channel)
            if not address:
                continue
            text = f"<@{address}>\n{body}" if channel == "wecom_bot" else body  # a mention in the group
            rows.append(
                {
                    "dedupe_key": f"alert:{key}:{person.staff_id}:{channel}"[:200],
                    "channel": channel,
                    "recipient": person.staff_id,
                    "address": address,
                    "subject": subject[:300],
                    "body": text,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                }
            )
    if not rows:
        return 0
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(OutboxMessage).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return int(conn.execute(stmt).rowcount or 0)
