"""The head's dashboard: live counts of a campaign per institution subtree and per account manager, and
the completion-rate trend from the daily snapshots.

"Live" counts follow the snapshot's rules (remediation/reporting/snapshots.py: stock baseline, new segment, out
of scope counts nowhere) but read the to-dos as they are now, so a correction that closes a to-do moves
the head's rate at once. The official T+1 figures, rank and score stay with the snapshots
(`snapshots.institution_scores`, the 机构问题汇总表).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from remediation.reporting.orgtree import InstitutionNode, path_to, subtree_codes
from remediation.reporting.queries import TodoScope
from remediation.reporting.rates import completion_rate, shared_ranks
from remediation.store.models import UNCOUNTED_STATUSES, Todo
from remediation.store.tally import BY_ASSIGNEE, BY_INSTITUTION, count_terms, ranked_totals, tallied_totals
from remediation.store.workflow_models import SnapshotRecords, SnapshotTotal
from remediation.workflow.campaigns import CampaignScope

TREND_DAYS = 120


@dataclass
class LiveCounts:
    baseline: int = 0  # stock to-dos the campaign inherited
    done: int = 0  # of those: fixed or exempted
    active: int = 0  # open or pending verification, stock baseline and new
    pending: int = 0
    overdue: int = 0
    yellow: int = 0
    red: int = 0
    new: int = 0  # to-dos outside the baseline (new records, or stock records failing later)
    fixed_total: int = 0  # every to-do fixed (baseline or not)

    @property
    def completion_rate(self) -> float:
        return completion_rate(self.done, self.baseline)

    def add(self, other: LiveCounts) -> None:
        self.baseline += other.baseline
        self.done += other.done
        self.active += other.active
        self.pending += other.pending
        self.overdue += other.overdue
        self.yellow += other.yellow
        self.red += other.red
        self.new += other.new
        self.fixed_total += other.fixed_total


def _n(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


@dataclass
class LiveBreakdown:
    by_inst: dict[str | None, LiveCounts]
    by_assignee: dict[str | None, LiveCounts]


def campaign_reach(
    tree: Mapping[str, InstitutionNode], campaign: CampaignScope
) -> tuple[set[str], set[str]] | None:
    """A campaign limited to some institutions: (its institutions and all below them, those and the
    institutions above them); None when the campaign covers the whole bank."""
    if not campaign.institutions:
        return None
    members: set[str] = set()
    for code in campaign.institutions:
        members |= subtree_codes(dict(tree), code)
    above = {n.inst_code for code in campaign.institutions for n in path_to(dict(tree), code)}
    return members, members | above


def campaign_clause(
    campaign: CampaignScope, tree: Mapping[str, InstitutionNode] | None = None
) -> ColumnElement[bool]:
    """The to-dos a campaign covers: its record types, its rules, and (given the tree) its institutions
    with their subtrees; every condition left out when the campaign does not limit it."""
    t = Todo
    conditions: list[ColumnElement[bool]] = []
    if campaign.tables:
        conditions.append(t.table_name.in_(campaign.tables))
    if campaign.rules:
        conditions.append(t.rule_id.in_(campaign.rules))
    reach = campaign_reach(tree, campaign) if tree is not None else None
    if reach is not None:
        conditions.append(t.inst_code.in_(sorted(reach[0])))
    return sa.and_(sa.true(), *conditions)


def live_breakdown(
    store: sa.Engine,
    campaign: CampaignScope,
    scope: TodoScope,
    today: dt.date,
    tree: Mapping[str, InstitutionNode] | None = None,
    *,
    direct: bool = False,
) -> LiveBreakdown:
    """Counts of the to-dos in scope and campaign per `inst_code` and per assignee: from the tally the
    store keeps as to-dos change (remediation/store/tally.py), or, for one person's to-dos or when
    `direct`, from one scan of the to-dos (the same numbers; the tests hold the two to each other)."""
    reach = campaign_reach(tree, campaign) if tree is not None else None
    members = reach[0] if reach is not None else None
    result = LiveBreakdown({}, {})
    if direct or scope.assignee is not None:
        for inst, person, counts in _scanned(store, campaign, scope, today, tree):
            result.by_inst.setdefault(inst, LiveCounts()).add(counts)
            result.by_assignee.setdefault(person, LiveCounts()).add(counts)
        return result
    institutions = None if scope.everything else (scope.institutions or frozenset())
    if members is not None:
        institutions = frozenset(members if institutions is None else institutions & members)
    with store.connect() as conn:
        totals = tallied_totals(conn, campaign.id, institutions, today)
    for kind, into in ((BY_INSTITUTION, result.by_inst), (BY_ASSIGNEE, result.by_assignee)):
        for key, summed in totals[kind]:
            into[key] = LiveCounts(*(summed[name] for name in LIVE_FIELDS))
    return result


LIVE_FIELDS = ("baseline", "done", "active", "pending", "overdue", "yellow", "red", "new", "fixed_total")


def _scanned(
    store: sa.Engine,
    campaign: CampaignScope,
    scope: TodoScope,
    today: dt.date,
    tree: Mapping[str, InstitutionNode] | None,
) -> list[tuple[str | None, str | None, LiveCounts]]:
    t = Todo
    terms = count_terms(t, campaign.baseline_date)
    terms["overdue"] = sa.and_(terms["active"], t.due_date < today)
    stmt = (
        sa.select(t.inst_code, t.assignee_staff_id, *(_n(terms[name]) for name in LIVE_FIELDS))
        .where(scope.clause(), t.status.not_in(UNCOUNTED_STATUSES))
        .group_by(t.inst_code, t.assignee_staff_id)
    )
    stmt = stmt.where(campaign_clause(campaign, tree))
    with store.connect() as conn:
        return [(row[0], row[1], LiveCounts(*(int(v) for v in row[2:]))) for row in conn.execute(stmt)]


def live_counts(
    store: sa.Engine,
    campaign: CampaignScope,
    scope: TodoScope,
    by: str,
    today: dt.date,
    tree: Mapping[str, InstitutionNode] | None = None,
) -> dict[str | None, LiveCounts]:
    """Counts per `inst_code` or per assignee (`by`: inst | assignee); see `live_breakdown`."""
    breakdown = live_breakdown(store, campaign, scope, today, tree)
    return breakdown.by_inst if by == "inst" else breakdown.by_assignee


def roll_up(
    per_inst: Mapping[str | None, LiveCounts], tree: Mapping[str, InstitutionNode], root: str
) -> LiveCounts:
    """The sum over the subtree of `root`."""
    total = LiveCounts()
    for code in subtree_codes(dict(tree), root):
        if code in per_inst:
            total.add(per_inst[code])
    return total


@dataclass(frozen=True)
class RankedRow:
    key: str
    name: str
    counts: LiveCounts
    rank: int


def rank(rows: list[tuple[str, str, LiveCounts]]) -> list[RankedRow]:
    """Best first: completion rate, then fewest overdue, then fewest active; rows equal on all three share a
    rank (1, 1, 3) and are listed by key."""

    def merit(counts: LiveCounts) -> tuple[float, int, int]:
        return (-counts.completion_rate, counts.overdue, counts.active)

    ordered = sorted(
        ((merit(r[2]), r[0], r) for r in rows), key=lambda e: e[:2]
    )  # each merit worked out once
    ranks = shared_ranks(ordered, lambda entry: entry[0])
    return [
        RankedRow(key, name, counts, n) for n, (_, _, (key, name, counts)) in zip(ranks, ordered, strict=True)
    ]


PEOPLE_SHOWN = 100  # a ranking longer than this shows its best and worst halves of it


def best_and_worst(ranked: list[RankedRow], shown: int = PEOPLE_SHOWN) -> tuple[list[RankedRow], int]:
    """The first and last `shown` / 2 rows of a long ranking, and how many were left out between them."""
    if len(ranked) <= shown:
        return ranked, 0
    half = shown // 2
    return ranked[:half] + ranked[-half:], len(ranked) - 2 * half


@dataclass
class RankedBreakdown:
    by_inst: dict[str | None, LiveCounts]
    people: list[RankedRow]  # the best and the worst of a long ranking (`best_and_worst`)
    people_hidden: int  # how many were left out between them


def ranked_breakdown(
    store: sa.Engine,
    campaign: CampaignScope,
    institutions: frozenset[str] | None,
    today: dt.date,
    tree: Mapping[str, InstitutionNode] | None = None,
    shown: int = PEOPLE_SHOWN,
) -> RankedBreakdown:
    """What the dashboard shows of the institutions' live counts: per institution, and the account managers
    ranked as `rank` then `best_and_worst` would, by the database (remediation/store/tally.py,
    `ranked_totals`), so the page gets the people it shows rather than every one of thousands."""
    reach = campaign_reach(tree, campaign) if tree is not None else None
    if reach is not None:
        institutions = frozenset(reach[0] if institutions is None else institutions & reach[0])
    with store.connect() as conn:
        found = ranked_totals(conn, campaign.id, institutions, today, shown)
    by_inst = {key: LiveCounts(*(c[name] for name in LIVE_FIELDS)) for key, c in found.by_inst}
    people = [
        RankedRow(key, key, LiveCounts(*(c[name] for name in LIVE_FIELDS)), position)
        for key, c, position in found.people
    ]
    return RankedBreakdown(by_inst, people, found.ranked - len(people))


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    baseline: int
    done: int
    active: int
    overdue: int

    @property
    def completion_rate(self) -> float:
        return completion_rate(self.done, self.baseline)


def completion_trend(
    store: sa.Engine, campaign_id: int, inst_code: str, until: dt.date, days: int = TREND_DAYS
) -> list[TrendPoint]:
    """One point per snapshot day of the institution's subtree (stock segment), oldest first."""
    s = SnapshotTotal
    stmt = (
        sa.select(
            s.snapshot_date,
            sa.func.sum(s.baseline),
            sa.func.sum(s.fixed + s.exempted),
            sa.func.sum(s.open + s.pending),
            sa.func.sum(s.overdue),
        )
        .where(
            s.campaign_id == campaign_id,
            s.inst_code == inst_code,
            s.segment == "stock",
            s.snapshot_date <= until,
            s.snapshot_date > until - dt.timedelta(days=days),
        )
        .group_by(s.snapshot_date)
        .order_by(s.snapshot_date)
    )
    with store.connect() as conn:
        return [
            TrendPoint(d, int(b or 0), int(f or 0), int(a or 0), int(o or 0))
            for d, b, f, a, o in conn.execute(stmt)
        ]


def snapshot_days(store: sa.Engine, campaign_id: int, limit: int = 62) -> list[dt.date]:
    """The days that have a snapshot, newest first (one index probe per day, not a scan of the days)."""
    t = SnapshotTotal
    days = (
        sa.select(sa.func.max(t.snapshot_date).label("day"))
        .where(t.campaign_id == campaign_id)
        .cte("days", recursive=True)
    )
    earlier = (
        sa.select(sa.func.max(t.snapshot_date))
        .where(t.campaign_id == campaign_id, t.snapshot_date < days.c.day)
        .scalar_subquery()
    )
    days = days.union_all(sa.select(earlier).where(days.c.day.is_not(None)))
    with store.connect() as conn:
        found = sa.select(days.c.day).where(days.c.day.is_not(None)).order_by(days.c.day.desc())
        return list(conn.scalars(found.limit(limit)))


@dataclass(frozen=True)
class RecordQuality:
    day: dt.date
    new_records: int
    with_findings: int

    @property
    def quality(self) -> float:
        """New-record quality (增量数据质量): share of new records without an active finding."""
        return 1 - self.with_findings / self.new_records if self.new_records else 1.0

    @property
    def shown(self) -> float | None:
        """The quality to show: none when there were no new records (nothing to judge, not 100%)."""
        return self.quality if self.new_records else None


def latest_record_quality(
    store: sa.Engine, campaign_id: int, inst_code: str, until: dt.date
) -> RecordQuality | None:
    """New-record quality of the institution's subtree from its latest snapshot up to `until`."""
    r = SnapshotRecords
    with store.connect() as conn:
        row = conn.execute(
            sa.select(r.snapshot_date, r.new_records, r.new_records_with_findings)
            .where(r.campaign_id == campaign_id, r.inst_code == inst_code, r.snapshot_date <= until)
            .order_by(r.snapshot_date.desc())
            .limit(1)
        ).first()
    return RecordQuality(row[0], int(row[1]), int(row[2])) if row is not None else None
