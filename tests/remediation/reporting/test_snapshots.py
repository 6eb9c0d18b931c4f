"""Snapshots and scores: completion rates equal hand-computed values at every level of the tree."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.checks.pipeline import run_suite
from remediation.reporting.report import as_row, to_csv
from remediation.reporting.snapshots import institution_scores, take_snapshot
from remediation.store.engines import open_store
from remediation.store.models import CheckRun, Todo
from remediation.store.workflow_models import Snapshot
from remediation.workflow.campaigns import CampaignError, create_campaign, list_campaigns
from tests.dbenv import BACKENDS, Databases, source_engine
from tests.factories import build_source, customer_row, merchant_row, update_record

DAY1 = dt.date(2026, 11, 18)  # the first check: the default campaign's baseline
DAY2 = dt.date(2026, 11, 19)
SUITES = {s.table: s for s in load_suites()}


def check(source_url: str, store: sa.Engine, day: dt.date) -> None:
    for suite in SUITES.values():
        run_suite(source_engine(source_url), store, suite, day)


@pytest.fixture(scope="module", params=BACKENDS)
def bank(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """Day 1: 4 failing merchants in 浔阳 (110100), 2 in 濂溪 (110200) and 1 customer there.
    Day 2: 2 of 浔阳's and the customer are fixed; a merchant onboarded on day 2 fails (new record);
    then one of 濂溪's to-dos is exempted. Built once per backend: tests must leave it as they found it."""
    databases = Databases(request.param, tmp_path_factory.mktemp("snapshots"))
    source_url = databases.new("source")
    bad_phone = {"contact_phone": "12345"}
    merchants = [merchant_row(i, **bad_phone) for i in range(1, 5)]
    merchants += [merchant_row(i, inst_code="110200", mgr_staff_id="M201", **bad_phone) for i in range(5, 7)]
    merchants.append(merchant_row(7))
    source = build_source(source_url, merchants, [customer_row(1, licence_end=None)])
    store = open_store(databases.new("store"))
    check(source_url, store, DAY1)
    take_snapshot(store, DAY1)
    for key in ("102360458120001", "102360458120002"):
        update_record(source, "merchant", key, contact_phone="13800138000")
    update_record(source, "customer_org", "C00000000001", licence_end=dt.date(9999, 12, 31))
    with source.begin() as conn:
        conn.execute(
            sa.insert(sa.table("merchant", *(sa.column(c) for c in merchants[0]))),
            [merchant_row(8, inst_code="110200", mgr_staff_id="M201", onboard_date=DAY2, **bad_phone)],
        )
    check(source_url, store, DAY2)
    with store.begin() as conn:
        conn.execute(sa.update(Todo).where(Todo.record_key == "102360458120006").values(status="exempted"))
    yield store
    store.dispose()
    databases.drop_all()  # on PostgreSQL the two databases outlived every run before


def by_code(store: sa.Engine, day: dt.date) -> dict[str, dict[str, object]]:
    _, scores = institution_scores(store, day)
    return {s.inst_code: as_row(s) for s in scores}


def test_rates_at_every_level_equal_hand_computed_values(bank: sa.Engine) -> None:
    rows = by_code(bank, DAY2)
    # (baseline, fixed, exempted, open, completion rate)
    expected = {
        "110100": (4, 2, 0, 2, 2 / 4),
        "110200": (3, 1, 1, 1, 2 / 3),
        "110000": (7, 3, 1, 3, 4 / 7),
        "100000": (7, 3, 1, 3, 4 / 7),
    }
    for code, (baseline, fixed, exempted, open_, rate) in expected.items():
        row = rows[code]
        assert (row["baseline"], row["fixed"], row["exempted"], row["open"]) == (
            baseline,
            fixed,
            exempted,
            open_,
        ), code
        assert row["completion_rate"] == pytest.approx(rate, abs=1e-4), code
    # the day-2 merchant is a new record (增量) with a finding: 1 new record, none clean
    assert (rows["110200"]["new"], rows["110200"]["new_open"], rows["110200"]["new_records"]) == (1, 1, 1)
    assert rows["110200"]["new_record_quality"] == 0.0
    assert rows["110100"]["new_record_quality"] is None  # no new records: shown as —, not 100%
    # score = 100 × (0.6 × completion + 0.25 × new-record quality + 0.15 × (1 − overdue rate))
    assert rows["110100"]["score"] == pytest.approx(70.0)
    assert rows["110200"]["score"] == pytest.approx(55.0)
    assert (rows["110100"]["rank"], rows["110200"]["rank"], rows["110200"]["peers"]) == (1, 2, 2)
    assert rows["110100"]["rate_change"] == pytest.approx(0.5)  # day 1 had nothing fixed


def test_severity_weighted_rate_weighs_by_rule_severity(bank: sa.Engine) -> None:
    rows = by_code(bank, DAY2)
    # 濂溪: two low-severity (weight 1) phone to-dos, one exempted and one open, and the customer's
    # medium (weight 2) licence to-do, fixed → (1 + 2) / (1 + 1 + 2)
    assert rows["110200"]["weighted_completion_rate"] == pytest.approx(3 / 4, abs=1e-4)


def reconciled_runs_on(store: sa.Engine, day: dt.date) -> list[int]:
    """Stand-ins for the day's full check runs of every table, reconciled (their counts are not read)."""
    now = dt.datetime.now(dt.UTC)
    with store.begin() as conn:
        return [
            conn.execute(
                sa.insert(CheckRun)
                .values(
                    table_name=table,
                    logical_date=day,
                    trigger="cli",
                    status="reconciled",
                    source="test",
                    started_at=now,
                    finished_at=now,
                )
                .returning(CheckRun.id)
            ).scalar_one()
            for table in SUITES
        ]


def test_month_end_snapshot_is_frozen(bank: sa.Engine) -> None:
    month_end = dt.date(2026, 11, 30)
    runs = reconciled_runs_on(bank, month_end)
    take_snapshot(bank, month_end)
    with bank.connect() as conn:
        before = sorted(
            tuple(r)
            for r in conn.execute(sa.select(Snapshot.__table__).where(Snapshot.snapshot_date == month_end))
        )
    assert before and all(r[-1] for r in before)  # frozen flag set
    with bank.begin() as conn:
        statuses = [tuple(r) for r in conn.execute(sa.select(Todo.id, Todo.status))]
        conn.execute(sa.update(Todo).values(status="fixed"))
    try:
        summary = take_snapshot(bank, month_end)
        with bank.connect() as conn:
            after = sorted(
                tuple(r)
                for r in conn.execute(
                    sa.select(Snapshot.__table__).where(Snapshot.snapshot_date == month_end)
                )
            )
    finally:
        with bank.begin() as conn:
            for todo_id, status in statuses:
                conn.execute(sa.update(Todo).where(Todo.id == todo_id).values(status=status))
            conn.execute(sa.delete(CheckRun).where(CheckRun.id.in_(runs)))
    assert list_campaigns(bank)[0].name in summary.skipped_frozen
    assert after == before


def test_report_csv_has_the_contract_columns(bank: sa.Engine) -> None:
    _, scores = institution_scores(bank, DAY2)
    header = to_csv(scores).splitlines()[0].split(",")
    assert header[:8] == [
        "inst_code",
        "level",
        "baseline",
        "fixed",
        "exempted",
        "open",
        "overdue",
        "completion_rate",
    ]


def test_a_campaign_scoped_to_one_subtree_counts_only_it(bank: sa.Engine) -> None:
    campaign = create_campaign(
        bank, f"濂溪专项 {uuid.uuid4().hex[:6]}", DAY1, dt.date(2026, 12, 31), 0.8, institutions=["110200"]
    )
    _, scores = institution_scores(bank, DAY2, campaign.id)
    rows = {s.inst_code: as_row(s) for s in scores}
    assert "110100" not in rows
    assert rows["100000"]["baseline"] == rows["110200"]["baseline"] == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deadline": dt.date(2026, 1, 1)}, "is before the baseline date"),
        ({"target_rate": 1.5}, "must be above 0 and at most 1"),
        ({"rules": ["MER-NOPE-1"]}, "unknown rule id(s): MER-NOPE-1"),
        ({"institutions": ["999999"]}, "unknown institution code(s): 999999"),
        ({"name": "默认专项治理 · default campaign"}, "exists already"),
    ],
)
def test_bad_campaigns_are_refused_by_field(bank: sa.Engine, kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "name": "新专项",
        "baseline_date": DAY1,
        "deadline": dt.date(2026, 12, 31),
        "target_rate": 0.9,
        **kwargs,
    }
    with pytest.raises(CampaignError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_campaign(bank, **args)


def test_a_month_end_snapshot_freezes_only_after_that_days_checks_reconciled(databases: Databases) -> None:
    month_end = dt.date(2026, 10, 31)
    source_url = databases.new("source")
    build_source(source_url, [merchant_row(1, contact_phone="12345")], [customer_row(1)])
    store = open_store(databases.new("store"))
    check(source_url, store, month_end - dt.timedelta(days=1))
    early = take_snapshot(store, month_end)  # the snapshot task ran before the day's checks
    assert not early.frozen
    assert early.not_frozen_because and "merchant" in early.not_frozen_because
    run_suite(source_engine(source_url), store, SUITES["merchant"], month_end)
    half = take_snapshot(store, month_end)
    assert not half.frozen and half.not_frozen_because and "customer_org" in half.not_frozen_because
    assert "merchant" not in half.not_frozen_because
    with store.connect() as conn:
        assert not conn.scalar(sa.select(sa.func.count()).select_from(Snapshot).where(Snapshot.frozen))
    run_suite(source_engine(source_url), store, SUITES["customer_org"], month_end)
    done = take_snapshot(store, month_end)
    assert done.frozen and done.not_frozen_because is None
    with store.connect() as conn:
        flags = set(conn.scalars(sa.select(Snapshot.frozen).where(Snapshot.snapshot_date == month_end)))
    assert flags == {True}
