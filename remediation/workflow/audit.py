"""The append-only audit log (dq_audit): logins, unmasked views, corrections and decisions, from the portal
and the command line.

Every entry is chained to the one before it (`remediation.workflow.auditchain`): appends are serialised, so two
writers never fork the chain, and triggers refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) on the table
(migration 0005). `dqgov audit verify` walks the chain.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
from dataclasses import dataclass

import sqlalchemy as sa

from remediation.clock import now
from remediation.store.workflow_models import AuditEntry
from remediation.workflow.actions import Store, transaction
from remediation.workflow.auditchain import GENESIS, entry_hash

MAX_DETAIL = 2000
_CHAIN_LOCK_KEY = 4_242_002  # PostgreSQL advisory lock: one appender at a time


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
    """Append one entry; on a Connection it joins the caller's transaction.

    The append holds the chain's lock until that transaction ends: call it last in a long transaction.
    """
    at = now()
    action = action[:40]
    detail = (detail or None) and detail[:MAX_DETAIL]
    client = (client or None) and client[:64]
    with transaction(store) as conn:
        _lock_chain(conn)
        last = conn.execute(
            sa.select(AuditEntry.id, AuditEntry.row_hash).order_by(AuditEntry.id.desc()).limit(1)
        ).first()
        entry_id = last.id + 1 if last is not None else 1
        prev_hash = last.row_hash if last is not None else GENESIS
        row_hash = entry_hash(
            entry_id, at, staff_id, action, table_name, record_key, detail, client, prev_hash
        )
        conn.execute(
            sa.insert(AuditEntry).values(
                id=entry_id,
                at=at,
                staff_id=staff_id,
                action=action,
                table_name=table_name,
                record_key=record_key,
                detail=detail,
                client=client,
                prev_hash=prev_hash,
                row_hash=row_hash,
            )
        )


def _lock_chain(conn: sa.Connection) -> None:
    """Serialise appends, so the newest entry read next is the one this entry follows.

    PostgreSQL: a transaction-level advisory lock. SQLite: a write that changes nothing takes the
    database's write lock before the read (the driver begins the transaction at the first write).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    else:
        conn.execute(sa.update(AuditEntry).where(sa.false()).values(id=AuditEntry.id))


def cli_client() -> str:
    """Where a command-line action came from, for the audit log's `client`: `cli:<os user>@<host>`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a container's uid)
        user = f"uid{os.getuid()}"
    return f"cli:{user}@{socket.gethostname()}"[:64]


@dataclass(frozen=True)
class AuditView:
    at: dt.datetime
    staff_id: str | None
    action: str
    table_name: str | None
    record_key: str | None
    detail: str | None
    client: str | None
    id: int = 0


def audit_entries(
    store: sa.Engine,
    *,
    staff_id: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    before: dt.datetime | None = None,
    limit: int | None = 200,
) -> list[AuditView]:
    """The newest entries first, optionally of one person, one action, and at or after `since` and before
    `before`."""
    stmt = sa.select(
        AuditEntry.at,
        AuditEntry.staff_id,
        AuditEntry.action,
        AuditEntry.table_name,
        AuditEntry.record_key,
        AuditEntry.detail,
        AuditEntry.client,
        AuditEntry.id,
    ).order_by(AuditEntry.id.desc())
    if staff_id is not None:
        stmt = stmt.where(AuditEntry.staff_id == staff_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if before is not None:
        stmt = stmt.where(AuditEntry.at < before)
    with store.connect() as conn:
        return [AuditView(*row) for row in conn.execute(stmt.limit(limit))]


def audit_actors(store: sa.Engine) -> list[str]:
    """The staff ids that appear in the log, for a filter menu."""
    with store.connect() as conn:
        return list(
            conn.scalars(
                sa.select(AuditEntry.staff_id)
                .where(AuditEntry.staff_id.is_not(None))
                .distinct()
                .order_by(AuditEntry.staff_id)
            )
        )
