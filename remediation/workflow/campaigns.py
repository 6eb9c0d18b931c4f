"""Campaigns (专项治理): scope, baseline date, deadline and target; a default one starts with the first run.

Findings on records that existed at the baseline are *stock* (存量); findings on records created after
it are *new* (增量) and tracked separately, so a branch is not punished for the backlog it inherited
nor excused for the records it creates badly today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from expectations.contract import CREATED_COLUMNS
from expectations.rulebook import Suite
from remediation.clock import now
from remediation.errors import DqgovError
from remediation.store.models import Institution, RuleRecord
from remediation.store.tally import build_tally
from remediation.store.workflow_models import Campaign, RunRecords

DEFAULT_CAMPAIGN = "默认专项治理 · default campaign"
DEFAULT_TARGET = 0.9
DEFAULT_LENGTH = dt.timedelta(days=365)


class CampaignError(DqgovError):
    """A campaign that cannot be created as asked; the message names the field."""


@dataclass(frozen=True)
class CampaignScope:
    id: int
    name: str
    tables: tuple[str, ...]  # empty: all
    rules: tuple[str, ...]  # empty: all
    institutions: tuple[str, ...]  # subtree roots; empty: all
    baseline_date: dt.date
    deadline: dt.date
    target_rate: float
    is_default: bool

    def covers_table(self, table: str) -> bool:
        return not self.tables or table in self.tables


def _split(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(";") if part)


def _scope(row: sa.Row[Any]) -> CampaignScope:
    return CampaignScope(
        id=row.id,
        name=row.name,
        tables=_split(row.tables),
        rules=_split(row.rules),
        institutions=_split(row.institutions),
        baseline_date=row.baseline_date,
        deadline=row.deadline,
        target_rate=row.target_rate,
        is_default=row.is_default,
    )


def list_campaigns(store: sa.Engine | sa.Connection) -> list[CampaignScope]:
    stmt = sa.select(Campaign.__table__).order_by(Campaign.id)
    if isinstance(store, sa.Engine):
        with store.connect() as conn:
            return [_scope(r) for r in conn.execute(stmt)]
    return [_scope(r) for r in store.execute(stmt)]


def choose_campaign(campaigns: Sequence[CampaignScope], campaign_id: int | None) -> CampaignScope | None:
    """The campaign with this id, or (no id) the default one; None when there is no campaign at all."""
    if campaign_id is None:
        return next((c for c in campaigns if c.is_default), campaigns[0] if campaigns else None)
    for campaign in campaigns:
        if campaign.id == campaign_id:
            return campaign
    raise CampaignError(
        f"no campaign with id {campaign_id} (see dqgov campaign list)",
        code="campaign_not_found",
        campaign=campaign_id,
    )


def ensure_default_campaign(store: sa.Engine, first_day: dt.date) -> None:
    """Create the default campaign (baseline = the first check date) if there is no campaign yet.

    Two first checks at once (separate processes on a new store) both find none: the one whose insert
    loses on the campaign's unique name finds the other's campaign and goes on."""
    try:
        with store.begin() as conn:
            if conn.scalar(sa.select(sa.func.count()).select_from(Campaign)):
                return
            conn.execute(
                sa.insert(Campaign).values(
                    name=DEFAULT_CAMPAIGN,
                    tables="",
                    rules="",
                    institutions="",
                    baseline_date=first_day,
                    deadline=first_day + DEFAULT_LENGTH,
                    target_rate=DEFAULT_TARGET,
                    is_default=True,
                    created_at=now(),
                    created_by="system",
                )
            )
            build_tally(conn)
    except IntegrityError:
        with store.connect() as conn:
            if not conn.scalar(sa.select(sa.func.count()).select_from(Campaign)):
                raise


def create_campaign(
    store: sa.Engine,
    name: str,
    baseline_date: dt.date,
    deadline: dt.date,
    target_rate: float,
    tables: Sequence[str] = (),
    rules: Sequence[str] = (),
    institutions: Sequence[str] = (),
    created_by: str = "cli",
) -> CampaignScope:
    name = name.strip()
    if not name:
        raise CampaignError("campaign name: required", code="campaign_name_required")
    if deadline < baseline_date:
        raise CampaignError(
            f"deadline {deadline} is before the baseline date {baseline_date}",
            code="campaign_order",
            deadline=deadline.isoformat(),
            baseline=baseline_date.isoformat(),
        )
    if not 0 < target_rate <= 1:
        raise CampaignError(
            f"target rate {target_rate} must be above 0 and at most 1 (e.g. 0.9 for 90%)",
            code="campaign_target",
            percent=f"{target_rate * 100:g}",
        )
    unknown_tables = sorted(set(tables) - set(CREATED_COLUMNS))
    if unknown_tables:
        raise CampaignError(
            f"unknown record type(s): {', '.join(unknown_tables)}",
            code="campaign_unknown_tables",
            tables=", ".join(unknown_tables),
        )
    with store.begin() as conn:
        if conn.scalar(sa.select(Campaign.id).where(Campaign.name == name)) is not None:
            raise CampaignError(
                f"a campaign named {name!r} exists already", code="campaign_name_taken", name=name
            )
        known_rules = set(conn.scalars(sa.select(RuleRecord.rule_id)))
        unknown_rules = sorted(set(rules) - known_rules)
        if unknown_rules:
            raise CampaignError(
                f"unknown rule id(s): {', '.join(unknown_rules)} (see dqgov rules list)",
                code="campaign_unknown_rules",
                rules=", ".join(unknown_rules),
            )
        known_insts = set(conn.scalars(sa.select(Institution.inst_code)))
        unknown_insts = sorted(set(institutions) - known_insts)
        if unknown_insts:
            raise CampaignError(
                f"unknown institution code(s): {', '.join(unknown_insts)}",
                code="campaign_unknown_institutions",
                codes=", ".join(unknown_insts),
            )
        new_id = conn.execute(
            sa.insert(Campaign)
            .values(
                name=name,
                tables=";".join(tables),
                rules=";".join(rules),
                institutions=";".join(institutions),
                baseline_date=baseline_date,
                deadline=deadline,
                target_rate=target_rate,
                is_default=False,
                created_at=now(),
                created_by=created_by,
            )
            .returning(Campaign.id)
        ).scalar_one()
        build_tally(conn, new_id)
        return _scope(conn.execute(sa.select(Campaign.__table__).where(Campaign.id == new_id)).one())


def stage_record_counts(source: sa.Engine, store: sa.Engine, suite: Suite, run_id: int) -> None:
    """Per campaign and institution: records in scope, and those created after the campaign's baseline."""
    created = sa.column(CREATED_COLUMNS[suite.table], sa.Date)
    inst: sa.ColumnClause[str] = sa.column("inst_code")
    status: sa.ColumnClause[str] = sa.column("status")
    table = sa.table(suite.table, inst, status, created)
    in_scope = suite.scope.sql(status)
    rows: list[dict[str, object]] = []
    for campaign in list_campaigns(store):
        if not campaign.covers_table(suite.table):
            continue
        new = sa.func.sum(sa.case((created > campaign.baseline_date, 1), else_=0))
        stmt = sa.select(inst, sa.func.count(), new).select_from(table).where(in_scope).group_by(inst)
        with source.connect() as conn:
            for inst_code, records, new_records in conn.execute(stmt):
                rows.append(
                    {
                        "run_id": run_id,
                        "campaign_id": campaign.id,
                        "inst_code": inst_code or "",
                        "records": int(records),
                        "new_records": int(new_records or 0),
                    }
                )
    if rows:
        with store.begin() as conn:
            conn.execute(sa.insert(RunRecords), rows)
