"""Which rules drive an institution's backlog: the active to-dos (and the overdue ones) of each rule, for
the institution's own records and for each institution directly below it (with its whole subtree).

Within a campaign, only its record types, rules and institutions count, scoped as the dashboard scopes them
(`dashboard.campaign_clause`), and a child outside the campaign's institutions is not listed. Every active
to-do in that scope counts, so a cell matches the to-do list it links to."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from remediation.reporting.dashboard import campaign_clause, campaign_reach
from remediation.reporting.orgtree import InstitutionNode, path_to, subtree_codes
from remediation.store.models import ACTIVE_STATUSES, RuleRecord, Todo
from remediation.workflow.campaigns import CampaignScope


@dataclass(frozen=True)
class Cell:
    active: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class RuleColumn:
    rule_id: str
    table_name: str
    description: str
    active: int  # over the whole subtree
    overdue: int


@dataclass(frozen=True)
class BreakdownRow:
    inst_code: str
    inst_name: str
    own: bool  # the institution's own records, not a child's subtree
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def active(self) -> int:
        return sum(c.active for c in self.cells.values())


@dataclass(frozen=True)
class RuleBreakdown:
    node: InstitutionNode
    rules: list[RuleColumn]  # the most active to-dos first
    rows: list[BreakdownRow]  # the institution's own records first, then its children, most to-dos first


def rule_breakdown(
    store: sa.Engine,
    tree: dict[str, InstitutionNode],
    code: str,
    today: dt.date,
    campaign: CampaignScope | None = None,
) -> RuleBreakdown:
    """Active to-dos by rule for `code`'s own records and each child's subtree, in one aggregate (within
    `campaign` when one is given)."""
    node = tree[code]
    members = subtree_codes(tree, code)
    overdue = sa.case((sa.and_(Todo.due_date.is_not(None), Todo.due_date < today), 1), else_=0)
    with store.connect() as conn:
        groups = conn.execute(
            sa.select(Todo.inst_code, Todo.rule_id, sa.func.count(), sa.func.sum(overdue))
            .where(Todo.status.in_(ACTIVE_STATUSES), Todo.inst_code.in_(sorted(members)))
            .where(campaign_clause(campaign, tree) if campaign is not None else sa.true())
            .group_by(Todo.inst_code, Todo.rule_id)
        ).all()
        described = {
            r.rule_id: (r.table_name, r.description or "")
            for r in conn.execute(
                sa.select(RuleRecord.rule_id, RuleRecord.table_name, RuleRecord.description)
            )
        }
    reach = campaign_reach(tree, campaign) if campaign is not None else None
    children = {
        n.inst_code
        for n in tree.values()
        if n.parent_code == code and (reach is None or n.inst_code in reach[1])
    }
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for inst, rule_id, n, late in groups:
        chain = [p.inst_code for p in path_to(tree, inst)]
        under = next((c for c in chain if c in children), code)  # the child whose subtree holds it, or own
        cell = counts[under][rule_id]
        cell[0] += int(n)
        cell[1] += int(late or 0)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for per_rule in counts.values():
        for rule_id, (n, late) in per_rule.items():
            totals[rule_id][0] += n
            totals[rule_id][1] += late
    rules = sorted(
        (
            RuleColumn(rule_id, *described.get(rule_id, ("", "")), n, late)
            for rule_id, (n, late) in totals.items()
        ),
        key=lambda r: (-r.active, r.rule_id),
    )
    rows = [
        BreakdownRow(
            inst,
            tree[inst].inst_name,
            inst == code,
            {rule_id: Cell(n, late) for rule_id, (n, late) in counts[inst].items()},
        )
        for inst in [code, *sorted(children)]
        if (inst == code and counts.get(code)) or inst != code
    ]
    own = [r for r in rows if r.own]
    others = sorted((r for r in rows if not r.own), key=lambda r: (-r.active, r.inst_code))
    return RuleBreakdown(node, rules, own + others)
