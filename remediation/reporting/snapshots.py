"""Daily snapshots per campaign × institution × rule × segment, rolled up the tree, and the scores on them.

Counting (docs/decisions.md, "Snapshots and scores", has the reasoning):
- segment `new` (增量): the record was created after the campaign's baseline date; otherwise `stock` (存量);
- stock `baseline`: stock to-dos first seen on or before the baseline date: the backlog the campaign inherits;
- open / pending / fixed / exempted / overdue / yellow / red: over the baseline set for stock, over all
  to-dos for new; `new`: to-dos outside the baseline set (new records, or stock records that started failing
  later);
- to-dos closed as out of scope (the record was closed) count nowhere: nobody can fix them.
Every institution's row covers its whole subtree. A month-end snapshot is frozen once that day's checks
have reconciled (a full run of every suite's table for the date): taking it again changes nothing, so the
monthly assessment can be reproduced. Only `take_snapshot` writes (the snapshot task and `dqgov snapshot`);
reading the summary of a day without a snapshot computes it in memory (`summary_table`, marked `live`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.errors import DqgovError
from remediation.policy import Policy, current_policy
from remediation.reporting.daycounts import (
    COUNTS,
    RECORD_COUNTS,
    Counter,
    DayCounts,
    by_severity,
    stored_counts,
    stored_totals,
)
from remediation.reporting.rates import completion_rate, shared_ranks
from remediation.store.models import (
    ACTIVE_STATUSES,
    UNCOUNTED_STATUSES,
    CheckRun,
    Institution,
    RunStatus,
    Todo,
    TodoStatus,
)
from remediation.store.snapshot_totals import severities, write_totals
from remediation.store.workflow_models import RunRecords, Snapshot, SnapshotRecords, SnapshotTotal
from remediation.workflow.campaigns import CampaignScope, choose_campaign, list_campaigns


@dataclass(frozen=True)
class SnapshotSummary:
    day: dt.date
    campaigns: int
    rows: int
    frozen: bool
    skipped_frozen: tuple[str, ...]  # campaigns whose snapshot for the day was frozen already
    not_frozen_because: str | None = None  # a month end written unfrozen: why


def is_month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


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


def compute_counts(
    conn: sa.Connection, campaign: CampaignScope, day: dt.date, parent: Mapping[str, str | None]
) -> DayCounts:
    """The snapshot of `day` from the to-dos as they are now, rolled up the tree; nothing is written."""
    members = _subtree_members(campaign.institutions, parent) if campaign.institutions else None
    counts = DayCounts()
    for row in _leaf_counts(conn, campaign, day):
        if members is not None and row.inst_code not in members:
            continue
        for inst in _chain(row.inst_code or "", parent):
            bucket = counts.rules[(inst, row.rule_id, row.segment)]
            for name in COUNTS:
                bucket[name] += int(getattr(row, name))
    for inst_code, leaf in _record_counts(conn, campaign, day).items():
        if members is not None and inst_code not in members:
            continue
        for inst in _chain(inst_code, parent):
            for name in RECORD_COUNTS:
                counts.records[inst][name] += leaf[name]
    return counts


def unreconciled_tables(conn: sa.Connection, day: dt.date, tables: Iterable[str]) -> list[str]:
    """The tables without a reconciled full check run (not a one-record re-check) for `day`."""
    done = set(
        conn.scalars(
            sa.select(CheckRun.table_name).where(
                CheckRun.logical_date == day,
                CheckRun.record_key.is_(None),
                CheckRun.status == RunStatus.RECONCILED,
            )
        )
    )
    return sorted(set(tables) - done)


def _freeze_refusal(conn: sa.Connection, day: dt.date, tables: Iterable[str] | None) -> str | None:
    """Why a month-end snapshot of `day` may not be frozen yet (None: it may)."""
    missing = unreconciled_tables(
        conn, day, tables if tables is not None else [s.table for s in load_suites()]
    )
    if not missing:
        return None
    return (
        f"month end {day} not frozen: no reconciled check run of {', '.join(missing)} for {day} yet; "
        "take the snapshot again after the day's checks"
    )


def _write(conn: sa.Connection, campaign_id: int, day: dt.date, counts: DayCounts, frozen: bool) -> None:
    key = {"snapshot_date": day, "campaign_id": campaign_id, "frozen": frozen}
    conn.execute(
        sa.delete(Snapshot).where(Snapshot.snapshot_date == day, Snapshot.campaign_id == campaign_id)
    )
    conn.execute(
        sa.delete(SnapshotRecords).where(
            SnapshotRecords.snapshot_date == day, SnapshotRecords.campaign_id == campaign_id
        )
    )
    if counts.rules:
        conn.execute(
            sa.insert(Snapshot),
            [
                {**key, "inst_code": inst, "rule_id": rule, "segment": segment, **{n: c[n] for n in COUNTS}}
                for (inst, rule, segment), c in counts.rules.items()
            ],
        )
    if counts.records:
        conn.execute(
            sa.insert(SnapshotRecords),
            [
                {**key, "inst_code": inst, **{n: c[n] for n in RECORD_COUNTS}}
                for inst, c in counts.records.items()
            ],
        )
    write_totals(conn, campaign_id, day)


def take_snapshot(store: sa.Engine, day: dt.date, tables: Iterable[str] | None = None) -> SnapshotSummary:
    """Compute and store the snapshot of `day` for every campaign (one transaction); frozen ones stay.

    A month end is frozen only when every table in `tables` (default: every suite's) has a reconciled full
    check run for `day`; before that it is written unfrozen, and the summary says why.
    """
    skipped: list[str] = []
    written = 0
    campaigns = list_campaigns(store)
    with store.begin() as conn:
        refusal = _freeze_refusal(conn, day, tables) if is_month_end(day) else None
        frozen = is_month_end(day) and refusal is None
        parent = _tree(conn)
        for campaign in campaigns:
            if conn.scalar(
                sa.select(sa.func.count())
                .select_from(Snapshot)
                .where(
                    Snapshot.snapshot_date == day,
                    Snapshot.campaign_id == campaign.id,
                    Snapshot.frozen.is_(True),
                )
            ):
                skipped.append(campaign.name)
                continue
            counts = compute_counts(conn, campaign, day, parent)
            _write(conn, campaign.id, day, counts, frozen)
            written += len(counts.rules)
    return SnapshotSummary(day, len(campaigns), written, frozen, tuple(skipped), refusal)


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
        raise DqgovError(
            "no campaign yet: run the checks first (dqgov check or the DAGs)", code="no_campaign"
        )
    return campaign


def _scores_for(conn: sa.Connection, counts: DayCounts, policy: Policy) -> dict[str, InstitutionScore]:
    """The rows of the summary table from counts keyed (institution, severity, segment)."""
    insts = {r.inst_code: r for r in conn.execute(sa.select(Institution.__table__))}
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

    for (inst_code, severity, segment), c in counts.rules.items():
        row = row_for(inst_code)
        prefix = "" if segment == "stock" else "new_"
        for name in COUNTS:
            row.counts[name if name in ("new", "baseline") else prefix + name] += c[name]
        if segment == "stock":
            weight = policy.severity_weights.get(severity, 1.0)
            row.weighted_baseline += weight * c["baseline"]
            row.weighted_done += weight * (c["fixed"] + c["exempted"])
    for inst_code, c in counts.records.items():
        row = row_for(inst_code)
        for name in RECORD_COUNTS:
            row.counts[name] += c[name]
    for row in rows.values():
        _rate(row, policy)
    return rows


def _completion_rates(counts: DayCounts) -> dict[str, float]:
    """Each institution's completion rate as `_scores_for` would compute it (and nothing else)."""
    sums: dict[str, list[int]] = {code: [0, 0] for code in counts.records}
    for (inst_code, _, segment), c in counts.rules.items():
        done_baseline = sums.setdefault(inst_code, [0, 0])
        done_baseline[1] += c["baseline"]
        if segment == "stock":
            done_baseline[0] += c["fixed"] + c["exempted"]
    return {code: completion_rate(done, baseline) for code, (done, baseline) in sums.items()}


def _rate(row: InstitutionScore, policy: Policy) -> None:
    c = row.counts
    row.completion_rate = completion_rate(c["fixed"] + c["exempted"], c["baseline"])
    row.weighted_completion_rate = completion_rate(row.weighted_done, row.weighted_baseline)
    if c["new_records"]:
        row.new_record_quality = 1 - c["new_records_with_findings"] / c["new_records"]
    active = c["open"] + c["pending"] + c["new_open"] + c["new_pending"]
    if active:
        row.overdue_rate = (c["overdue"] + c["new_overdue"]) / active
    w = policy.score_weights
    row.score = round(
        100
        * (
            w["completion"] * row.completion_rate
            + w["new_record_quality"] * row.new_record_quality
            + w["overdue"] * (1 - row.overdue_rate)
        ),
        1,
    )


@dataclass(frozen=True)
class SummaryTable:
    """The 机构问题汇总表 of a day: from its snapshot, or, when none was taken, `live` from the to-dos now."""

    campaign: CampaignScope
    day: dt.date
    scores: list[InstitutionScore]
    live: bool  # no snapshot for the day: computed in memory, not stored, not official
    frozen: bool


def summary_table(
    store: sa.Engine,
    day: dt.date,
    campaign_id: int | None = None,
    policy: Policy | None = None,
    *,
    from_rules: bool = False,
) -> SummaryTable:
    """The summary table of `day`, ranked among peers. Reads only: a day without a snapshot is computed
    in memory (as `take_snapshot` would, without freezing or storing anything). A stored day is read from
    its totals per severity; `from_rules` reads its rows per rule instead (the same numbers, slower: the
    reference the tests hold the totals to)."""
    policy = policy or current_policy()
    campaign = _campaign(store, campaign_id)
    with store.connect() as conn:
        severity = severities(conn)

        def stored_day(when: dt.date) -> tuple[DayCounts, bool] | None:
            if not from_rules:
                return stored_totals(conn, campaign.id, when)
            found = stored_counts(conn, campaign.id, when)
            return (by_severity(found[0], severity), found[1]) if found else None

        stored = stored_day(day)
        if stored is None:
            counts, frozen = by_severity(compute_counts(conn, campaign, day, _tree(conn)), severity), False
        else:
            counts, frozen = stored
        rows = _scores_for(conn, counts, policy)
        t = Snapshot if from_rules else SnapshotTotal
        before = conn.scalar(
            sa.select(sa.func.max(t.snapshot_date)).where(t.campaign_id == campaign.id, t.snapshot_date < day)
        )
        earlier = stored_day(before) if before else None
        previous = _completion_rates(earlier[0]) if earlier else {}
    peers: dict[str | None, list[InstitutionScore]] = defaultdict(list)
    for row in rows.values():
        peers[row.parent_code].append(row)
        if row.inst_code in previous:
            row.rate_change = row.completion_rate - previous[row.inst_code]
    for group in peers.values():
        group.sort(key=lambda r: (-r.score, -r.completion_rate, r.inst_code))
        for position, row in zip(
            shared_ranks(group, lambda r: (r.score, r.completion_rate)), group, strict=True
        ):
            row.rank, row.peers = position, len(group)
    parent = {r.inst_code: r.parent_code for r in rows.values()}
    depth = {code: len(_chain(code, parent)) for code in rows}
    ordered = sorted(rows.values(), key=lambda r: (depth[r.inst_code], r.parent_code or "", r.rank))
    return SummaryTable(campaign, day, ordered, live=stored is None, frozen=frozen)


def institution_scores(
    store: sa.Engine, day: dt.date, campaign_id: int | None = None, policy: Policy | None = None
) -> tuple[CampaignScope, list[InstitutionScore]]:
    """`summary_table` as (campaign, rows); reads only."""
    table = summary_table(store, day, campaign_id, policy)
    return table.campaign, table.scores
