"""A snapshot summed over the rules of each severity, per institution and segment (`dq_snapshot_total`).

The summary table weighs each rule's counts by its severity (as `dq_rule` says now, `low` when the rule is
unknown) and the dashboard's trend sums an institution's rules: both read these few thousand rows a day
instead of a row per institution and rule. They are derived from `dq_snapshot` and `dq_rule` by one
statement, written with every snapshot (`write_totals`), and written again for every day when a rule's
severity changes (`rebuild_totals`, from `sync_rules`), so they always equal the sums of today's rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from remediation.store.models import RuleRecord
from remediation.store.workflow_models import Snapshot, SnapshotTotal

COUNTS = ("baseline", "open", "pending", "fixed", "exempted", "overdue", "yellow", "red", "new")


def _totals(campaign_id: int | None = None, day: dt.date | None = None) -> Any:
    s = Snapshot
    severity = sa.func.coalesce(RuleRecord.severity, "low").label("severity")
    key = [s.campaign_id, s.snapshot_date, s.inst_code, s.segment, severity]
    stmt: Any = (
        sa.select(
            *key,
            *(sa.func.sum(getattr(s, name)).label(name) for name in COUNTS),
            (sa.func.max(sa.case((s.frozen, 1), else_=0)) > 0).label("frozen"),
        )
        .select_from(sa.outerjoin(Snapshot, RuleRecord, RuleRecord.rule_id == s.rule_id))
        .group_by(*key)
    )
    if campaign_id is not None:
        stmt = stmt.where(s.campaign_id == campaign_id)
    if day is not None:
        stmt = stmt.where(s.snapshot_date == day)
    return stmt


def _columns() -> list[str]:
    return ["campaign_id", "snapshot_date", "inst_code", "segment", "severity", *COUNTS, "frozen"]


def write_totals(conn: sa.Connection, campaign_id: int, day: dt.date) -> None:
    """The totals of one campaign's snapshot of `day`, from its rows as they are now."""
    t = SnapshotTotal
    conn.execute(sa.delete(t).where(t.campaign_id == campaign_id, t.snapshot_date == day))
    conn.execute(sa.insert(t).from_select(_columns(), _totals(campaign_id, day)))


def rebuild_totals(conn: sa.Connection) -> None:
    """The totals of every stored snapshot, again (after a rule's severity changed)."""
    conn.execute(sa.delete(SnapshotTotal))
    conn.execute(sa.insert(SnapshotTotal).from_select(_columns(), _totals()))


def severities(conn: sa.Connection) -> dict[str, str]:
    return {rule: sev for rule, sev in conn.execute(sa.select(RuleRecord.rule_id, RuleRecord.severity))}
