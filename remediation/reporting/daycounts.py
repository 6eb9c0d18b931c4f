"""A day's snapshot counts as the summary table reads them: per rule (`dq_snapshot`), or summed per
severity (`dq_snapshot_total`, what the portal reads), and the record counts (`dq_snapshot_records`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from remediation.store.workflow_models import Snapshot, SnapshotRecords, SnapshotTotal

COUNTS = ("baseline", "open", "pending", "fixed", "exempted", "overdue", "yellow", "red", "new")
RECORD_COUNTS = ("records", "new_records", "new_records_with_findings", "routing_gaps")


class Counter(dict[str, int]):
    """Counts that start at zero."""

    def __missing__(self, key: str) -> int:
        return 0


@dataclass
class DayCounts:
    """One campaign's snapshot of a day, stored or computed: per (institution, rule, segment), and per
    institution the record counts; every institution's counts cover its subtree."""

    rules: dict[tuple[str, str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    records: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))


def stored_counts(conn: sa.Connection, campaign_id: int, day: dt.date) -> tuple[DayCounts, bool] | None:
    """The stored snapshot of `day` and whether it is frozen; None when none was taken."""
    counts = DayCounts()
    frozen = False
    for s in conn.execute(
        sa.select(Snapshot.__table__).where(
            Snapshot.snapshot_date == day, Snapshot.campaign_id == campaign_id
        )
    ):
        bucket = counts.rules[(s.inst_code, s.rule_id, s.segment)]
        for name in COUNTS:
            bucket[name] += getattr(s, name)
        frozen = frozen or bool(s.frozen)
    for r in conn.execute(
        sa.select(SnapshotRecords.__table__).where(
            SnapshotRecords.snapshot_date == day, SnapshotRecords.campaign_id == campaign_id
        )
    ):
        for name in RECORD_COUNTS:
            counts.records[r.inst_code][name] += getattr(r, name)
        frozen = frozen or bool(r.frozen)
    return (counts, frozen) if counts.rules or counts.records else None


def stored_totals(conn: sa.Connection, campaign_id: int, day: dt.date) -> tuple[DayCounts, bool] | None:
    """`stored_counts` summed over the rules of each severity: counts keyed (institution, severity,
    segment), read from `dq_snapshot_total`; None when no snapshot of `day` was taken."""
    counts = DayCounts()
    t = SnapshotTotal
    columns = [t.inst_code, t.severity, t.segment, *(getattr(t, name) for name in COUNTS), t.frozen]
    found = conn.execute(sa.select(*columns).where(t.snapshot_date == day, t.campaign_id == campaign_id))
    frozen = False
    for row in found:  # one row per key: the counts as they are
        counts.rules[(row[0], row[1], row[2])] = Counter(zip(COUNTS, row[3:-1], strict=True))
        frozen = frozen or bool(row[-1])
    for r in conn.execute(
        sa.select(SnapshotRecords.__table__).where(
            SnapshotRecords.snapshot_date == day, SnapshotRecords.campaign_id == campaign_id
        )
    ):
        for name in RECORD_COUNTS:
            counts.records[r.inst_code][name] += getattr(r, name)
        frozen = frozen or bool(r.frozen)
    return (counts, frozen) if counts.rules or counts.records else None


def by_severity(counts: DayCounts, severity: Mapping[str, str]) -> DayCounts:
    """Counts keyed (institution, rule, segment) summed into (institution, the rule's severity, segment);
    a rule `dq_rule` does not know counts as `low`."""
    summed = DayCounts(records=counts.records)
    for (inst, rule, segment), c in counts.rules.items():
        bucket = summed.rules[(inst, severity.get(rule, "low"), segment)]
        for name in COUNTS:
            bucket[name] += c[name]
    return summed
