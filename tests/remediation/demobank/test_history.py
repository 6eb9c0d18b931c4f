"""The demo with history (`dqgov demo`): weeks of check dates on a small bank give a trend of 30+ points,
fixes and regressions, appeals at each stage, yellow and red cards, a frozen month end, and institutions that
rank differently."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from remediation.demobank.history import build_history
from remediation.reporting.dashboard import completion_trend
from remediation.store.engines import open_store
from remediation.store.models import CheckRun, Institution, Todo
from remediation.store.workflow_models import Appeal, Campaign, Snapshot

TODAY = dt.date(2026, 11, 30)  # the first date is 2026-10-31: the history spans the October month end


@pytest.mark.slow
def test_history_has_a_trend_cards_appeals_and_a_frozen_month_end(tmp_path: Path) -> None:
    source = sa.create_engine(f"sqlite:///{tmp_path / 'source.sqlite'}")
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    summary = build_history(source, store, TODAY, days=31, merchants=120, customers=40, seed=7)
    assert (summary.first, summary.last, summary.dates) == (dt.date(2026, 10, 31), TODAY, 31)
    assert summary.fixed > 0 and summary.regressed > 0 and summary.appeals >= 3

    with store.connect() as conn:
        runs = conn.execute(sa.select(CheckRun.logical_date).distinct()).scalars().all()
        assert max(runs) == TODAY and min(runs) == summary.first  # never after today
        assert len(runs) >= 10  # every other working day, the month ends, and the first and last dates
        days = conn.execute(sa.select(Snapshot.snapshot_date).distinct()).scalars().all()
        assert len(days) >= 30  # one trend point per date
        frozen = conn.execute(sa.select(Snapshot.snapshot_date).where(Snapshot.frozen).distinct()).scalars()
        assert dt.date(2026, 10, 31) in set(frozen)
        cards = dict(conn.execute(sa.select(Todo.card, sa.func.count()).group_by(Todo.card)).tuples().all())
        assert cards.get("yellow", 0) > 0 and cards.get("red", 0) > 0, cards
        statuses = dict(
            conn.execute(sa.select(Todo.status, sa.func.count()).group_by(Todo.status)).tuples().all()
        )
        assert statuses.get("fixed", 0) > 0 and statuses.get("exempted", 0) > 0, statuses
        opened_later = conn.scalar(
            sa.select(sa.func.count()).select_from(Todo).where(Todo.first_seen > summary.first)
        )
        assert opened_later > 0  # regressions open new to-dos
        appeals = set(conn.execute(sa.select(Appeal.stage, Appeal.status)).tuples().all())
        assert {
            ("coordination", "pending"),
            ("coordination", "accepted"),
            ("arbitration", "rejected"),
        } <= appeals
        assert {("arbitration", "accepted"), ("arbitration", "pending")} <= appeals
        last = conn.execute(
            sa.select(Snapshot.inst_code, Snapshot.baseline, Snapshot.fixed, Snapshot.exempted).where(
                Snapshot.snapshot_date == TODAY, Snapshot.segment == "stock"
            )
        ).all()
    with store.connect() as conn:
        campaign = conn.scalar(sa.select(Campaign.id).where(Campaign.is_default))
        root = conn.scalar(sa.select(Institution.inst_code).where(Institution.parent_code.is_(None)))
    assert campaign is not None and root is not None
    trend = completion_trend(store, campaign, root, TODAY)  # what the head office's dashboard draws
    assert len(trend) >= 30 and len({p.completion_rate for p in trend}) > 5  # it moves
    rates: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for inst, baseline, fixed, exempted in last:
        rates[inst][0] += fixed + exempted
        rates[inst][1] += baseline
    assert len({round(done / base, 3) for done, base in rates.values() if base}) > 2  # rankings differ
