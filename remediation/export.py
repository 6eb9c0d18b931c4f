"""The findings export of the data contract: CSV with the contract's column names, streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from remediation.models import Todo, TodoStatus

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
EXTRA_COLUMNS = ("routed_to_head", "first_seen", "last_seen", "masked_value")


def findings_rows(store: sa.Engine, include_closed: bool = False) -> Iterator[tuple[object, ...]]:
    stmt = sa.select(
        Todo.table_name,
        Todo.record_key,
        Todo.rule_id,
        Todo.clause,
        Todo.columns,
        Todo.severity,
        Todo.status,
        Todo.assignee_staff_id,
        Todo.inst_code,
        Todo.routed_to_head,
        Todo.first_seen,
        Todo.last_seen,
        Todo.masked_value,
    ).order_by(Todo.table_name, Todo.record_key, Todo.rule_id)
    if not include_closed:
        stmt = stmt.where(Todo.status == TodoStatus.OPEN)
    with store.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=5000).execute(stmt):
            values = list(row)
            values[9] = "yes" if values[9] else "no"
            values[10] = values[10].isoformat() if values[10] else ""
            values[11] = values[11].isoformat() if values[11] else ""
            yield tuple(values)


def export_findings(store: sa.Engine, out: Path, include_closed: bool = False) -> int:
    """Write the findings CSV (UTF-8 with BOM so Excel opens Chinese text right); returns the row count."""
    tmp = out.with_name(out.name + ".part")
    count = 0
    with tmp.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(FINDINGS_COLUMNS + EXTRA_COLUMNS)
        for row in findings_rows(store, include_closed):
            writer.writerow(row)
            count += 1
    tmp.replace(out)
    return count
