"""Campaigns (专项治理): the default one starts with the first check; a new one is checked field by field;
each run counts its records per campaign and institution. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import suite_for
from remediation.checks.staging import start_run
from remediation.store.workflow_models import RunRecords
from remediation.workflow.campaigns import (
    CampaignError,
    choose_campaign,
    create_campaign,
    ensure_default_campaign,
    list_campaigns,
    stage_record_counts,
)
from tests.factories import CHECK_DATE, build_source, merchant_row


def test_the_default_campaign_starts_once_with_the_first_check_date(store: sa.Engine) -> None:
    ensure_default_campaign(store, CHECK_DATE)
    ensure_default_campaign(store, CHECK_DATE + dt.timedelta(days=3))
    [default] = list_campaigns(store)
    assert (default.is_default, default.baseline_date, default.target_rate) == (True, CHECK_DATE, 0.9)
    assert choose_campaign([default], None) == default


def test_a_campaign_is_created_and_chosen_by_id(store: sa.Engine) -> None:
    ensure_default_campaign(store, CHECK_DATE)
    made = create_campaign(
        store,
        " 浔阳专项 ",
        CHECK_DATE,
        CHECK_DATE + dt.timedelta(days=90),
        0.8,
        tables=["merchant"],
        rules=["MER-C1-PHONE-FORMAT"],
        institutions=["110100"],
    )
    assert (made.name, made.tables, made.institutions, made.covers_table("customer_org")) == (
        "浔阳专项",
        ("merchant",),
        ("110100",),
        False,
    )
    assert choose_campaign(list_campaigns(store), made.id) == made
    with pytest.raises(CampaignError, match="no campaign with id 999"):
        choose_campaign(list_campaigns(store), 999)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " "}, "campaign name: required"),
        ({"deadline": CHECK_DATE - dt.timedelta(days=1)}, "is before the baseline date"),
        ({"target_rate": 1.5}, "must be above 0 and at most 1"),
        ({"tables": ["shop"]}, "unknown record type"),
        ({"rules": ["NO-SUCH-RULE"]}, "unknown rule id"),
        ({"institutions": ["999999"]}, "unknown institution code"),
    ],
)
def test_a_bad_campaign_names_its_field_and_nothing_is_stored(
    store: sa.Engine, kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {
        "name": "专项",
        "baseline_date": CHECK_DATE,
        "deadline": CHECK_DATE + dt.timedelta(days=30),
        "target_rate": 0.9,
    }
    with pytest.raises(CampaignError, match=message):
        create_campaign(store, **{**args, **kwargs})
    assert list_campaigns(store) == []


def test_each_run_counts_records_and_new_records_per_campaign_and_institution(
    store: sa.Engine, databases: Any
) -> None:
    source = build_source(
        databases.new("source"),
        [
            merchant_row(1),
            merchant_row(2, onboard_date=CHECK_DATE),
            merchant_row(3, status="closed"),
            merchant_row(4, inst_code="110200", mgr_staff_id="M201"),
        ],
    )
    ensure_default_campaign(store, CHECK_DATE - dt.timedelta(days=1))
    suite = suite_for("merchant")
    run_id = start_run(store, suite, CHECK_DATE, "test", source)
    stage_record_counts(source, store, suite, run_id)
    with store.connect() as conn:
        counts = {r.inst_code: (r.records, r.new_records) for r in conn.execute(sa.select(RunRecords))}
    assert counts == {"110100": (2, 1), "110200": (1, 0)}  # the closed record is out of scope
