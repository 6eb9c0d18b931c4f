"""The findings export of the data contract: CSV with the contract's column names, streamed.

Every CSV goes through `remediation.spreadsheet.csv_writer`, so no cell starts a formula."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from remediation.reporting.spreadsheet import csv_writer
from remediation.store.models import ACTIVE_STATUSES, Todo

FINDINGS_COLUMNS = (
    "table",
    "record_key",
    "rule_id",
    "clause",
    "columns",
    "severity",
    "status",
    "assignee_staff_id",
    "inst_code",
)
EXTRA_COLUMNS = ("first_seen", "due_date", "card", "last_seen", "routed_to_head", "masked_value")
_SOURCE = {"table": Todo.table_name, "clause": Todo.clause, "columns": Todo.columns}


def _text(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def findings_rows(store: sa.Engine, include_closed: bool = False) -> Iterator[list[object]]:
    names = FINDINGS_COLUMNS + EXTRA_COLUMNS
    stmt = sa.select(*(_SOURCE[n] if n in _SOURCE else getattr(Todo, n) for n in names)).order_by(
        Todo.table_name, Todo.record_key, Todo.rule_id
    )
    if not include_closed:
        stmt = stmt.where(Todo.status.in_(ACTIVE_STATUSES))
    with store.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=5000).execute(stmt):
            yield [_text(v) for v in row]


def export_findings(store: sa.Engine, out: Path, include_closed: bool = False) -> int:
    """Write the findings CSV (UTF-8 with BOM so Excel opens Chinese text right); returns the row count."""
    tmp = out.with_name(out.name + ".part")
    count = 0
    with tmp.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv_writer(fh)
        writer.writerow(FINDINGS_COLUMNS + EXTRA_COLUMNS)
        for row in findings_rows(store, include_closed):
            writer.writerow(row)
            count += 1
    tmp.replace(out)
    return count
