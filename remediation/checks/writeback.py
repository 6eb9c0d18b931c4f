"""Write-back adapters: how an accepted correction reaches the source system.

- `SourceRowUpdate` (`DQGOV_WRITEBACK=update`, the demo): UPDATE the source row at once, so the record
  can be re-checked right away.
- `CorrectionsOutbox` (`DQGOV_WRITEBACK=outbox`, a bank): INSERT a request into `dq_correction_request`
  in the source database (created if missing); the bank's system applies it in its own process and
  audit trail. The to-do then waits for a check to see the new values (pending verification).

The platform never writes a source table in outbox mode; in update mode it writes only the corrected
columns (and `updated_at`) of one row.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from expectations.contract import PRIMARY_KEYS, RECORD_TABLES
from remediation import settings
from remediation.clock import now
from remediation.errors import AmbiguousKey, DqgovError
from remediation.store.source_records import record_rows

WRITEBACK_KINDS = ("update", "outbox")
NOT_WRITABLE = ("status", "inst_code", "mgr_staff_id", "updated_at")  # not a data correction


class WriteBackError(DqgovError):
    """The source did not take the correction; nothing was changed there."""


class AmbiguousKeyWrite(WriteBackError, AmbiguousKey):
    """More than one source row carries the record's key: nothing was written (see `AmbiguousKey`)."""


class WriteBack(Protocol):
    name: str
    immediate: bool  # True: the source holds the new values when `write` returns

    def write(self, table: str, record_key: str, changes: Mapping[str, Any], staff_id: str) -> str:
        """Hand the changes over; returns a reference for the correction's record. Raises WriteBackError."""
        ...


def _check(table: str, changes: Mapping[str, Any]) -> sa.Table:
    if table not in RECORD_TABLES:
        raise WriteBackError(f"there is no record type {table!r}", code="unknown_table", table=table)
    contract = RECORD_TABLES[table]
    bad = [c for c in changes if c not in contract.c or c in NOT_WRITABLE or c == PRIMARY_KEYS[table]]
    if bad or not changes:
        columns = ", ".join(bad) or "(none)"
        raise WriteBackError(
            f"cannot write column(s) {columns} of {table}", code="writeback_columns", columns=columns
        )
    return contract


def _reason(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]


class SourceRowUpdate:
    """UPDATE the record's row in the source (the demo bank)."""

    name = "update"
    immediate = True

    def __init__(self, source: sa.Engine) -> None:
        self.source = source

    def write(self, table: str, record_key: str, changes: Mapping[str, Any], staff_id: str) -> str:
        contract = _check(table, changes)
        key = contract.c[PRIMARY_KEYS[table]]
        values = {**changes, "updated_at": now().replace(tzinfo=None)}
        try:
            with self.source.begin() as conn:  # anything but one row changed: rolled back
                changed = conn.execute(sa.update(contract).where(key == record_key).values(**values)).rowcount
                if changed > 1:
                    raise AmbiguousKeyWrite(table, record_key, changed)
                if changed != 1:
                    raise WriteBackError(
                        f"{table} {record_key} is not in the source (any more)",
                        code="record_gone",
                        table=table,
                        key=record_key,
                    )
        except SQLAlchemyError as exc:
            raise WriteBackError(
                f"the source refused the update: {_reason(exc)}", code="writeback_refused"
            ) from None
        return f"updated {table} {record_key}"


REQUESTS = sa.Table(
    "dq_correction_request",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), nullable=False, unique=True),
    sa.Column("table_name", sa.String(40), nullable=False),
    sa.Column("record_key", sa.String(64), nullable=False),
    sa.Column("changes", sa.Text, nullable=False),  # JSON {column: new value}, values as text
    sa.Column("requested_by", sa.String(20), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="pending"),  # the bank sets it
)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class CorrectionsOutbox:
    """INSERT a correction request into `dq_correction_request` in the source database."""

    name = "outbox"
    immediate = False

    def __init__(self, source: sa.Engine) -> None:
        self.source = source
        self._ready = False

    def write(self, table: str, record_key: str, changes: Mapping[str, Any], staff_id: str) -> str:
        _check(table, changes)
        request_id = str(uuid.uuid4())
        try:
            if not self._ready:
                REQUESTS.create(self.source, checkfirst=True)
                self._ready = True
            with self.source.begin() as conn:
                _one_row(conn, table, record_key)
                conn.execute(
                    sa.insert(REQUESTS).values(
                        request_id=request_id,
                        table_name=table,
                        record_key=record_key,
                        changes=json.dumps(
                            {k: _json_value(v) for k, v in changes.items()}, ensure_ascii=False
                        ),
                        requested_by=staff_id,
                        requested_at=now(),
                        status="pending",
                    )
                )
        except SQLAlchemyError as exc:
            raise WriteBackError(
                f"the corrections table refused the request: {_reason(exc)}", code="writeback_refused"
            ) from None
        return f"request {request_id} in dq_correction_request"


def _one_row(conn: sa.Connection, table: str, record_key: str) -> None:
    """A request must name exactly one source row: the bank's system would otherwise apply it to several."""
    rows = record_rows(conn, table, record_key)
    if rows > 1:
        raise AmbiguousKeyWrite(table, record_key, rows)
    if rows == 0:
        raise WriteBackError(
            f"{table} {record_key} is not in the source (any more)",
            code="record_gone",
            table=table,
            key=record_key,
        )


def writeback_for(source: sa.Engine, kind: str | None = None) -> WriteBack:
    """The adapter `kind` (default: DQGOV_WRITEBACK) on the `source` engine."""
    kind = (kind or settings.get("DQGOV_WRITEBACK")).strip().lower()
    if kind not in WRITEBACK_KINDS:
        raise DqgovError(
            f"DQGOV_WRITEBACK={kind!r}: choose one of {', '.join(WRITEBACK_KINDS)}",
            code="writeback_kind",
            value=kind,
            choices=", ".join(WRITEBACK_KINDS),
        )
    return SourceRowUpdate(source) if kind == "update" else CorrectionsOutbox(source)
