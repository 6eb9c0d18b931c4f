"""The check runs as the data office reviews them: when, how long, counts, and each rule's outcome."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from remediation.reporting.queries import as_dataclass
from remediation.store.models import CheckRun, CheckRunRule


@dataclass(frozen=True)
class RunRow:
    id: int
    table_name: str
    logical_date: dt.date
    trigger: str
    record_key: str | None
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    records_in_scope: int
    failing_records: int
    findings: int
    opened: int
    reopened: int
    fixed: int
    out_of_scope: int
    gx_success: bool | None
    gx_seconds: float | None
    error: str | None
    gone: int = 0
    guard: str | None = None  # JSON: the volume guard's comparison, when it stopped the run
    accepted_by: str | None = None
    accepted_at: dt.datetime | None = None
    source_defects: str | None = None  # JSON
    voided_by: str | None = None
    voided_at: dt.datetime | None = None

    @property
    def stopped_by_guard(self) -> bool:
        return self.status == "failed" and self.guard is not None and self.accepted_by is None

    @property
    def guard_details(self) -> dict[str, Any]:
        return dict(json.loads(self.guard)) if self.guard else {}

    @property
    def defects(self) -> dict[str, Any]:
        return dict(json.loads(self.source_defects)) if self.source_defects else {}

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        start, end = self.started_at, self.finished_at
        if (start.tzinfo is None) != (end.tzinfo is None):
            start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        return (end - start).total_seconds()


_COLUMNS = (
    CheckRun.id,
    CheckRun.table_name,
    CheckRun.logical_date,
    CheckRun.trigger,
    CheckRun.record_key,
    CheckRun.status,
    CheckRun.started_at,
    CheckRun.finished_at,
    CheckRun.records_in_scope,
    CheckRun.failing_records,
    CheckRun.findings,
    CheckRun.opened,
    CheckRun.reopened,
    CheckRun.fixed,
    CheckRun.out_of_scope,
    CheckRun.gx_success,
    CheckRun.gx_seconds,
    CheckRun.error,
    CheckRun.gone,
    CheckRun.guard,
    CheckRun.accepted_by,
    CheckRun.accepted_at,
    CheckRun.source_defects,
    CheckRun.voided_by,
    CheckRun.voided_at,
)


def check_runs(store: sa.Engine, limit: int = 100, include_rechecks: bool = False) -> list[RunRow]:
    """The newest runs first; single-record re-checks only when asked."""
    stmt = sa.select(*_COLUMNS).order_by(CheckRun.id.desc()).limit(limit)
    if not include_rechecks:
        stmt = stmt.where(CheckRun.record_key.is_(None))
    with store.connect() as conn:
        return [as_dataclass(RunRow, r) for r in conn.execute(stmt)]


def check_run(store: sa.Engine, run_id: int) -> RunRow | None:
    with store.connect() as conn:
        row = conn.execute(sa.select(*_COLUMNS).where(CheckRun.id == run_id)).first()
    return as_dataclass(RunRow, row) if row is not None else None


@dataclass(frozen=True)
class RunRuleRow:
    rule_id: str
    unexpected: int | None
    extracted: int
    status: str
    error: str | None


def run_rules(store: sa.Engine, run_id: int) -> list[RunRuleRow]:
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(
                CheckRunRule.rule_id,
                CheckRunRule.unexpected,
                CheckRunRule.extracted,
                CheckRunRule.status,
                CheckRunRule.error,
            )
            .where(CheckRunRule.run_id == run_id)
            .order_by(CheckRunRule.rule_id)
        ).all()
    return [as_dataclass(RunRuleRow, r) for r in rows]
