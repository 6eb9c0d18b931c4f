"""The audit log's hash chain: how an entry is hashed, and the walk that finds the first broken link.

Each `dq_audit` row carries `prev_hash` (the `row_hash` of the entry before it, `GENESIS` for the first) and
`row_hash` = SHA-256 over a canonical encoding of its own fields plus `prev_hash`. Ids are given out by
`remediation.audit.audit` as the previous id + 1 under a lock, so a gap in the ids means deleted rows
(ids from before the chain existed may have gaps, which the links bridge).

The walk reads the log in id order, a page at a time (bounded memory), and names the first entry where
the chain breaks and why: changed after it was written, missing (deleted), or inserted. A hash chain
cannot see rows cut off the end of the log: compare the newest entry it reports with one recorded
elsewhere (docs/decisions.md, "Audit log").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from remediation.store.workflow_models import AuditEntry
from remediation.workflow.actions import reading

GENESIS = "0" * 64
ENCODING = "dq_audit/1"  # bump (with a migration that re-chains) if the encoding ever changes
PAGE = 1000


def utc_iso(at: dt.datetime) -> str:
    """`at` in UTC, ISO-8601 with microseconds; a naive value (SQLite gives them back) is UTC already."""
    aware = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return aware.isoformat(timespec="microseconds")


def entry_hash(
    entry_id: int,
    at: dt.datetime,
    staff_id: str | None,
    action: str,
    table_name: str | None,
    record_key: str | None,
    detail: str | None,
    client: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the entry's canonical encoding: a JSON array, UTF-8, no spaces, nulls as null."""
    fields = [
        ENCODING,
        entry_id,
        utc_iso(at),
        staff_id,
        action,
        table_name,
        record_key,
        detail,
        client,
        prev_hash,
    ]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def stored_hash(row: Any) -> str:
    """What `row_hash` must be for a row read back from dq_audit."""
    return entry_hash(
        row.id,
        row.at,
        row.staff_id,
        row.action,
        row.table_name,
        row.record_key,
        row.detail,
        row.client,
        row.prev_hash or "",
    )


@dataclass(frozen=True)
class Link:
    id: int
    row_hash: str | None


@dataclass(frozen=True)
class ChainReport:
    entries: int  # entries read
    broken_at: int | None  # id of the first broken link; None when intact
    problem: str | None  # changed | missing | inserted | unlinked
    reason: str  # what is wrong, in one sentence (English; the portal shows its own words)
    newest: Link | None  # the last entry read
    complete: bool  # False: only the newest entries were read (see `verify_chain(newest=…)`)

    @property
    def intact(self) -> bool:
        return self.broken_at is None


_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.staff_id,
    AuditEntry.action,
    AuditEntry.table_name,
    AuditEntry.record_key,
    AuditEntry.detail,
    AuditEntry.client,
    AuditEntry.prev_hash,
    AuditEntry.row_hash,
)


def _rows(conn: sa.Connection, after: int) -> Iterator[Any]:
    """Every entry with an id above `after`, in id order, one page at a time (keyset paging)."""
    while True:
        page = conn.execute(
            sa.select(*_COLUMNS).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(PAGE)
        ).all()
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].id


def _start(conn: sa.Connection, newest: int | None) -> tuple[Link, bool]:
    """The link the walk starts from: before the first entry, or the entry just before the newest N."""
    if newest is None:
        return Link(0, GENESIS), True
    anchor = conn.execute(
        sa.select(AuditEntry.id, AuditEntry.row_hash).order_by(AuditEntry.id.desc()).offset(newest).limit(1)
    ).first()
    if anchor is None:
        return Link(0, GENESIS), True
    return Link(anchor.id, anchor.row_hash), False


def verify_chain(store: sa.Engine | sa.Connection, *, newest: int | None = None) -> ChainReport:
    """Walk the chain; stop at the first broken link. `newest`: only the newest N entries (the portal)."""
    with reading(store) as conn:
        prev, complete = _start(conn, newest)
        before_prev: Link | None = None
        count = 0
        rows = _rows(conn, prev.id)
        for row in rows:
            count += 1
            content_ok = row.row_hash == stored_hash(row)
            if content_ok and row.prev_hash == prev.row_hash:
                before_prev, prev = prev, Link(row.id, row.row_hash)
                continue
            following = next(rows, None)
            problem, broken_at, reason = _diagnose(row, content_ok, prev, before_prev, following)
            newest_link = Link(row.id, row.row_hash)
            return ChainReport(count, broken_at, problem, reason, newest_link, complete)
    return ChainReport(count, None, None, "", prev if count else None, complete)


def _diagnose(
    row: Any, content_ok: bool, prev: Link, before_prev: Link | None, following: Any
) -> tuple[str, int, str]:
    """(problem, id of the first broken link, reason) for the first entry that does not hold."""
    linked = row.prev_hash == prev.row_hash
    if not linked and before_prev is not None and row.prev_hash == before_prev.row_hash:
        why = f"entry {row.id} links to entry {before_prev.id} before it"
        return "inserted", prev.id, f"entry {prev.id} was inserted: {why}"
    if not content_ok and following is not None and following.prev_hash == prev.row_hash:
        why = f"entry {following.id} links to entry {prev.id} before it"
        return "inserted", row.id, f"entry {row.id} was inserted: {why}"
    if not linked and row.id > prev.id + 1:
        first, last = prev.id + 1, row.id - 1
        missing = f"entry {first} is" if first == last else f"entries {first}-{last} are"
        why = f"entry {row.id} links to a row that is not there"
        return "missing", first, f"{missing} missing (deleted): {why}"
    if not content_ok:
        why = "its content does not match its hash"
        return "changed", row.id, f"entry {row.id} was changed after it was written: {why}"
    why = "an entry before it was removed, replaced or re-hashed"
    return "unlinked", row.id, f"entry {row.id} does not link to entry {prev.id} (prev_hash mismatch): {why}"
