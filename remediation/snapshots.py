"""Daily snapshots per campaign × institution × rule × segment, rolled up the tree, and the scores on them.

Counting (docs/decisions.md, "Snapshots and scores", has the reasoning):
- segment `new` (增量): the record was created after the campaign's baseline date; otherwise `stock` (存量);
- stock `baseline`: stock to-dos first seen on or before the baseline date: the backlog the campaign inherits;
- open / pending / fixed / exempted / overdue / yellow / red: over the baseline set for stock, over all
  to-dos for new; `new`: to-dos outside the baseline set (new records, or stock records that started failing
  later);
- to-dos closed as out of scope (the record was closed) count nowhere: nobody can fix them.
Every institution's row covers its whole subtree. A month-end snapshot is frozen: taking it again
changes nothing, so the monthly assessment can be reproduced.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from remediation.campaigns import CampaignScope, choose_campaign, list_campaigns
from remediation.errors import DqgovError
from remediation.models import (
    ACTIVE_STATUSES,
    UNCOUNTED_STATUSES,
    CheckRun,
    Institution,
    RuleRecord,
    RunRecords,
    RunStatus,
    Snapshot,
    SnapshotRecords,
    Todo,
    TodoStatus,
)
from remediation.policy import Policy, current_policy

COUNTS = ("baseline", "open", "pending", "fixed", "exempted", "overdue", "yellow", "red", "new")
RECORD_COUNTS = ("records", "new_records", "new_records_with_findings", "routing_gaps")


class Counter(dict[str, int]):
    """Counts that start at zero."""

    def __missing__(self, key: str) -> int:
        return 0


@dataclass(frozen=True)
class SnapshotSummary:
    day: dt.date
    campaigns: int
    rows: int
    frozen: bool
    skipped_frozen: tuple[str, ...]  # campaigns whose snapshot for the day was frozen already


def is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).month != day.month


def _tree(conn: sa.Connection) -> dict[str, str | None]:
    return {
        code: parent
        for code, parent in conn.execute(sa.select(Institution.inst_code, Institution.parent_code))
    }


def _chain(code: str, parent: Mapping[str, str | None]) -> list[str]:
    """The institution and its ancestors, root last (cycles in bad source data stop the walk)."""
    chain = [code]
    node = parent.get(code)
    while node is not None and node not in chain:
        chain.append(node)
        node = parent.get(node)
    return chain


def _subtree_members(roots: Iterable[str], parent: Mapping[str, str | None]) -> set[str]:
    roots = set(roots)
    return {code for code in parent if roots & set(_chain(code, parent))}


def _leaf_counts(conn: sa.Connection, campaign: CampaignScope, day: dt.date) -> list[sa.Row[Any]]:
    t = Todo
    new_segment = sa.and_(t.record_created.is_not(None), t.record_created > campaign.baseline_date)
    segment = sa.case((new_segment, "new"), else_="stock")
    in_baseline = sa.and_(sa.not_(new_segment), t.first_seen <= campaign.baseline_date)
    counted = sa.or_(new_segment, in_baseline)
    active = t.status.in_(ACTIVE_STATUSES)

    def n(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    stmt = (
        sa.select(
            t.inst_code,
            t.rule_id,
            segment.label("segment"),
            n(in_baseline).label("baseline"),
            n(sa.and_(counted, t.status == TodoStatus.OPEN)).label("open"),
            n(sa.and_(counted, t.status == TodoStatus.PENDING_VERIFICATION)).label("pending"),
            n(sa.and_(counted, t.status == TodoStatus.FIXED)).label("fixed"),
            n(sa.and_(counted, t.status == TodoStatus.EXEMPTED)).label("exempted"),
            n(sa.and_(counted, active, t.due_date < day)).label("overdue"),
            n(sa.and_(counted, active, t.card == "yellow")).label("yellow"),
            n(sa.and_(counted, active, t.card == "red")).label("red"),
            n(sa.not_(in_baseline)).label("new"),
        )
        .where(t.first_seen <= day, t.status.not_in(UNCOUNTED_STATUSES))
        .group_by(t.inst_code, t.rule_id, segment)
    )
    if campaign.tables:
        stmt = stmt.where(t.table_name.in_(campaign.tables))
    if campaign.rules:
        stmt = stmt.where(t.rule_id.in_(campaign.rules))
    return list(conn.execute(stmt))


def _record_counts(conn: sa.Connection, campaign: CampaignScope, day: dt.date) -> dict[str, Counter]:
    """Records and new records per institution, from the latest full run of each table up to `day`."""
    latest = (
        sa.select(CheckRun.table_name, sa.func.max(CheckRun.id).label("run_id"))
        .where(
            CheckRun.status == RunStatus.RECONCILED,
            CheckRun.record_key.is_(None),
            CheckRun.logical_date <= day,
        )
        .group_by(CheckRun.table_name)
        .subquery()
    )
    rows = conn.execute(
        sa.select(RunRecords.inst_code, RunRecords.records, RunRecords.new_records)
        .join(latest, latest.c.run_id == RunRecords.run_id)
        .where(RunRecords.campaign_id == campaign.id)
    )
    counts: dict[str, Counter] = defaultdict(Counter)
    for inst_code, records, new_records in rows:
        counts[inst_code]["records"] += records
        counts[inst_code]["new_records"] += new_records
    t = Todo
    active_new = sa.and_(
        t.status.in_(ACTIVE_STATUSES), t.record_created > campaign.baseline_date, t.first_seen <= day
    )
    scoped = [t.table_name.in_(campaign.tables)] if campaign.tables else []
    scoped += [t.rule_id.in_(campaign.rules)] if campaign.rules else []
    failing_new = conn.execute(
        sa.select(t.inst_code, sa.func.count(sa.distinct(t.table_name + ":" + t.record_key)))
        .where(active_new, *scoped)
        .group_by(t.inst_code)
    )
    for code, n in failing_new:
        counts[code or ""]["new_records_with_findings"] += n
    gaps = conn.execute(
        sa.select(t.inst_code, sa.func.count())
        .where(t.status.in_(ACTIVE_STATUSES), t.routed_to_head.is_(True), t.first_seen <= day, *scoped)
        .group_by(t.inst_code)
    )
    for code, n in gaps:
        counts[code or ""]["routing_gaps"] += n
    return counts


def take_snapshot(store: sa.Engine, day: dt.date) -> SnapshotSummary:
    """Compute and store the snapshot of `day` for every campaign (one transaction); frozen ones stay."""
    skipped: list[str] = []
    written = 0
    campaigns = list_campaigns(store)
    with store.begin() as conn:
        parent = _tree(conn)
        for campaign in campaigns:
            key = sa.and_(Snapshot.snapshot_date == day, Snapshot.campaign_id == campaign.id)
            if conn.scalar(
                sa.select(sa.func.count()).select_from(Snapshot).where(key, Snapshot.frozen.is_(True))
            ):
                skipped.append(campaign.name)
                continue
            conn.execute(sa.delete(Snapshot).where(key))
            conn.execute(
                sa.delete(SnapshotRecords).where(
                    SnapshotRecords.snapshot_date == day, SnapshotRecords.campaign_id == campaign.id
                )
            )
            members = _subtree_members(campaign.institutions, parent) if campaign.institutions else None
            rolled: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
            for row in _leaf_counts(conn, campaign, day):
                if members is not None and row.inst_code not in members:
                    continue
                for inst in _chain(row.inst_code or "", parent):
                    bucket = rolled[(inst, row.rule_id, row.segment)]
                    for name in COUNTS:
                        bucket[name] += int(getattr(row, name))
            records: dict[str, Counter] = defaultdict(Counter)
            for inst_code, counts in _record_counts(conn, campaign, day).items():
                if members is not None and inst_code not in members:
                    continue
                for inst in _chain(inst_code, parent):
                    for name in RECORD_COUNTS:
                        records[inst][name] += counts[name]
            frozen = is_month_end(day)
            if rolled:
                conn.execute(
                    sa.insert(Snapshot),
                    [
                        {"snapshot_date": day, "campaign_id": campaign.id, "inst_code": inst, "rule_id": rule,
                         "segment": segment, "frozen": frozen, **{n: c[n] for n in COUNTS}}
                        for (inst, rule, segment), c in rolled.items()
                    ],
                )  # fmt: skip
            if records:
                conn.execute(
                    sa.insert(SnapshotRecords),
                    [
                        {"snapshot_date": day, "campaign_id": campaign.id, "inst_code": inst, "frozen": frozen,
                         **{n: c[n] for n in RECORD_COUNTS}}
                        for inst, c in records.items()
                    ],
                )  # fmt: skip
            written += len(rolled)
    return SnapshotSummary(day, len(campaigns), written, is_month_end(day), tuple(skipped))


@dataclass
class InstitutionScore:
    """One row of the institution issue summary table (机构问题汇总表)."""

    inst_code: str
    inst_name: str
    level: str
    parent_code: str | None
    counts: Counter = field(default_factory=Counter)
    weighted_baseline: float = 0.0
    weighted_done: float = 0.0
    completion_rate: float = 1.0
    weighted_completion_rate: float = 1.0
    new_record_quality: float = 1.0
    overdue_rate: float = 0.0
    score: float = 100.0
    rank: int = 1
    peers: int = 1
    rate_change: float | None = None


def _campaign(store: sa.Engine, campaign_id: int | None) -> CampaignScope:
    campaign = choose_campaign(list_campaigns(store), campaign_id)
    if campaign is None:
        raise DqgovError("no campaign yet: run the checks first (dqgov check or the DAGs)")
    return campaign


def _scores_for(
    conn: sa.Connection, campaign: CampaignScope, day: dt.date, policy: Policy
) -> dict[str, InstitutionScore]:
    insts = {r.inst_code: r for r in conn.execute(sa.select(Institution.__table__))}
    severity = {rule: sev for rule, sev in conn.execute(sa.select(RuleRecord.rule_id, RuleRecord.severity))}
    rows: dict[str, InstitutionScore] = {}

    def row_for(code: str) -> InstitutionScore:
        if code not in rows:
            inst = insts.get(code)
            rows[code] = InstitutionScore(
                inst_code=code,
                inst_name=inst.inst_name if inst else "(未知机构 unknown)",
                level=inst.inst_level if inst else "",
                parent_code=inst.parent_code if inst else None,
            )
        return rows[code]

    for s in conn.execute(
        sa.select(Snapshot.__table__).where(
            Snapshot.snapshot_date == day, Snapshot.campaign_id == campaign.id
        )
    ):
        row = row_for(s.inst_code)
        prefix = "" if s.segment == "stock" else "new_"
        for name in COUNTS:
            if name in ("new", "baseline"):
                row.counts[name] += getattr(s, name)
            else:
                row.counts[prefix + name] += getattr(s, name)
        if s.segment == "stock":
            weight = policy.severity_weights.get(severity.get(s.rule_id, "low"), 1.0)
            row.weighted_baseline += weight * s.baseline
            row.weighted_done += weight * (s.fixed + s.exempted)
    for r in conn.execute(
        sa.select(SnapshotRecords.__table__).where(
            SnapshotRecords.snapshot_date == day, SnapshotRecords.campaign_id == campaign.id
        )
    ):
        row = row_for(r.inst_code)
        for name in RECORD_COUNTS:
            row.counts[name] += getattr(r, name)
    for row in rows.values():
        c = row.counts
        if c["baseline"]:
            row.completion_rate = (c["fixed"] + c["exempted"]) / c["baseline"]
        if row.weighted_baseline:
            row.weighted_completion_rate = row.weighted_done / row.weighted_baseline
        if c["new_records"]:
            row.new_record_quality = 1 - c["new_records_with_findings"] / c["new_records"]
        active = c["open"] + c["pending"] + c["new_open"] + c["new_pending"]
        if active:
            row.overdue_rate = (c["overdue"] + c["new_overdue"]) / active
        w = policy.score_weights
        row.score = round(
            100 * (w["completion"] * row.completion_rate + w["new_record_quality"] * row.new_record_quality
                   + w["overdue"] * (1 - row.overdue_rate)),
            1,
        )  # fmt: skip
    return rows


def institution_scores(
    store: sa.Engine, day: dt.date, campaign_id: int | None = None, policy: Policy | None = None
) -> tuple[CampaignScope, list[InstitutionScore]]:
    """The summary table of `day` (taking the snapshot first if there is none), ranked among peers."""
    policy = policy or current_policy()
    campaign = _campaign(store, campaign_id)
    with store.connect() as conn:
        has = conn.scalar(
            sa.select(sa.func.count())
            .select_from(Snapshot)
            .where(Snapshot.snapshot_date == day, Snapshot.campaign_id == campaign.id)
        )
    if not has:
        take_snapshot(store, day)
    with store.connect() as conn:
        rows = _scores_for(conn, campaign, day, policy)
        before = conn.scalar(
            sa.select(sa.func.max(Snapshot.snapshot_date)).where(
                Snapshot.campaign_id == campaign.id, Snapshot.snapshot_date < day
            )
        )
        previous = _scores_for(conn, campaign, before, policy) if before else {}
    peers: dict[str | None, list[InstitutionScore]] = defaultdict(list)
    for row in rows.values():
        peers[row.parent_code].append(row)
        if row.inst_code in previous:
            row.rate_change = row.completion_rate - previous[row.inst_code].completion_rate
    for group in peers.values():
        group.sort(key=lambda r: (-r.score, -r.completion_rate, r.inst_code))
        for position, row in enumerate(group, start=1):
            row.rank, row.peers = position, len(group)
    depth = {code: len(_chain(code, {r.inst_code: r.parent_code for r in rows.values()})) for code in rows}
    ordered = sorted(rows.values(), key=lambda r: (depth[r.inst_code], r.parent_code or "", r.rank))
    return campaign, ordered
