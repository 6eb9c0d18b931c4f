"""The append-only audit log (dq_audit): logins, unmasked views, corrections and decisions made in the portal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from remediation.actions import Store, transaction
from remediation.models import AuditEntry

MAX_DETAIL = 2000


def audit(
    store: Store,
    staff_id: str | None,
    action: str,
    *,
    table_name: str | None = None,
    record_key: str | None = None,
    detail: str | None = None,
    client: str | None = None,
) -> None:
    """Append one entry; on a Connection it joins the caller's transaction."""
    with transaction(store) as conn:
        conn.execute(
            sa.insert(AuditEntry).values(
                at=dt.datetime.now(dt.UTC),
                staff_id=staff_id,
                action=action[:40],
                table_name=table_name,
                record_key=record_key,
                detail=(detail or None) and detail[:MAX_DETAIL],
                client=(client or None) and client[:64],
            )
        )


@dataclass(frozen=True)
class AuditView:
    at: dt.datetime
    staff_id: str | None
    action: str
    table_name: str | None
    record_key: str | None
    detail: str | None
    client: str | None


def audit_entries(
    store: sa.Engine, *, staff_id: str | None = None, action: str | None = None, limit: int = 200
) -> list[AuditView]:
    """The newest entries first, optionally of one person or one action."""
    stmt = sa.select(
        AuditEntry.at,
        AuditEntry.staff_id,
        AuditEntry.action,
        AuditEntry.table_name,
        AuditEntry.record_key,
        AuditEntry.detail,
        AuditEntry.client,
    ).order_by(AuditEntry.id.desc())
    if staff_id is not None:
        stmt = stmt.where(AuditEntry.staff_id == staff_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    with store.connect() as conn:
        return [AuditView(*row) for row in conn.execute(stmt.limit(limit))]
