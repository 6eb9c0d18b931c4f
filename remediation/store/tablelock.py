"""One writer per record type: the lock a reconcile (or voiding a run) holds for its whole transaction.

- PostgreSQL: a transaction-level advisory lock keyed by the table name; it is released at commit or
  rollback, also when the process dies (the server ends the session).
- SQLite: the first statement of the transaction writes the table's row in `dq_table_lock`, which takes
  the database's write lock before anything is read, so what the transaction reads next is current.
  Another writer waits (`busy_timeout`) until the holder commits.

Call `lock_table` first in the transaction, before any read.
"""

from __future__ import annotations

import hashlib
import os
import socket

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from remediation.clock import now
from remediation.store.models import TableLock


def lock_key(table: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    digest = hashlib.sha256(f"dqgov:table:{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def holder() -> str:
    """This process, as a lock holder or a run's owner: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def lock_table(conn: sa.Connection, table: str) -> None:
    """Block until this transaction is the only writer of `table`'s to-dos."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(table)})
        return
    stmt = sqlite.insert(TableLock).values(table_name=table, holder=holder(), acquired_at=now())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["table_name"],
            set_={"holder": stmt.excluded.holder, "acquired_at": stmt.excluded.acquired_at},
        )
    )
