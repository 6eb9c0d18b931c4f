"""The volume guard: a shrunken extract stops the run before any to-do changes, unless the data office
accepts the drop; records that vanish close as gone, not fixed. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.contract import SOURCE_METADATA
from remediation.checks.reconcile.run import reconcile_run
from remediation.checks.volume import VolumeGuardTripped
from remediation.errors import NotAllowed
from remediation.lifecycle import Lifecycle
from remediation.store.models import CheckRun
from remediation.store.workflow_models import AuditEntry, OutboxMessage
from tests.checkbank import BAD_PHONE, PHONE, Bank, key
from tests.factories import CHECK_DATE, merchant_row, update_record

DAY = dt.timedelta(days=1)


@pytest.fixture
def bank(databases: Any) -> Bank:
    return Bank(databases)


# --- 2. the volume guard -----------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0, 3], ids=["emptied", "truncated-to-10%"])
def test_a_shrunken_extract_is_stopped_before_it_closes_anything(bank: Bank, keep: int) -> None:
    bank.run()
    before = bank.todos()
    bank.delete_merchants(keep)
    with pytest.raises(VolumeGuardTripped) as stopped:
        bank.run(CHECK_DATE + DAY)
    assert str(stopped.value).startswith("volume guard: merchant records in scope fell from 36")
    assert bank.todos() == before  # same to-dos, same due dates
    with bank.store.connect() as conn:
        run = conn.execute(sa.select(CheckRun.__table__).order_by(CheckRun.id.desc())).first()
        alerts = conn.execute(sa.select(OutboxMessage.recipient, OutboxMessage.subject)).all()
    assert (run.status, json.loads(run.guard)["current"]) == ("failed", keep)
    assert run.error.startswith("volume guard:")
    assert {r for r, _ in alerts} == {"D001"} and all("volume guard" in s for _, s in alerts)


def test_an_institution_that_shrank_is_stopped_even_when_the_bank_did_not(bank: Bank) -> None:
    bank.add_merchants([merchant_row(i) for i in range(100, 200)])  # 130 in 110100
    bank.add_merchants(
        [merchant_row(i, inst_code="110200", mgr_staff_id="M201") for i in range(40, 61)]
    )  # 27
    bank.run()
    with bank.source.begin() as conn:  # 110200 loses 10 of its 27 merchants; the bank only 10 of 157
        conn.execute(
            sa.text("DELETE FROM merchant WHERE inst_code = '110200' AND mer_id > :k"), {"k": key(50)}
        )
    with pytest.raises(
        VolumeGuardTripped, match=r"of 1 institution\(s\) fell .* 110200 from 27 to 17 \(-37%\)"
    ):
        bank.run(CHECK_DATE + DAY)
    assert bank.run_row(bank.last_run_id()).status == "failed"


def test_a_small_drop_below_the_limit_is_applied(bank: Bank) -> None:
    bank.run()
    bank.delete_merchants(30)  # 36 → 30: 17%, within the 20% the policy allows
    summary = bank.run(CHECK_DATE + DAY)
    assert summary.reconcile.status == "reconciled"


def test_a_drop_accepted_by_the_data_office_closes_as_gone_and_is_audited(bank: Bank) -> None:
    bank.run()
    bank.delete_merchants(5)
    with pytest.raises(VolumeGuardTripped):
        bank.run(CHECK_DATE + DAY)
    run_id = bank.last_run_id()
    with pytest.raises(NotAllowed):
        reconcile_run(
            bank.store, run_id, Lifecycle.in_force(), accepted_by="M101"
        )  # an account manager cannot accept it
    assert bank.run_row(run_id).status == "failed"
    summary = reconcile_run(bank.store, run_id, Lifecycle.in_force(), accepted_by="D001")
    assert (summary.status, summary.gone, summary.fixed) == ("reconciled", 5, 0)
    statuses = bank.statuses()
    assert {statuses[f"{key(i)}:{PHONE}"] for i in range(6, 11)} == {"gone"}  # not "fixed"
    assert {statuses[f"{key(i)}:{PHONE}"] for i in range(1, 6)} == {"open"}
    assert bank.run_row(run_id).accepted_by == "D001"
    with bank.store.connect() as conn:
        entry = conn.execute(sa.select(AuditEntry.staff_id, AuditEntry.action, AuditEntry.detail)).all()
    assert ("D001", "volume_drop_accepted") in {(s, a) for s, a, _ in entry}


def test_a_vanished_record_closes_as_gone_and_carries_on_when_it_returns(bank: Bank) -> None:
    bank.run()
    first = bank.todos()[f"{key(10)}:{PHONE}"]
    with bank.source.begin() as conn:
        conn.execute(sa.text("DELETE FROM merchant WHERE mer_id = :k"), {"k": key(10)})
    update_record(bank.source, "merchant", key(9), status="closed")
    summary = bank.run(CHECK_DATE + DAY)
    assert (summary.reconcile.gone, summary.reconcile.out_of_scope, summary.reconcile.fixed) == (1, 1, 0)
    assert bank.statuses()[f"{key(10)}:{PHONE}"] == "gone"
    assert bank.statuses()[f"{key(9)}:{PHONE}"] == "out_of_scope"
    with bank.source.begin() as conn:
        conn.execute(
            sa.insert(SOURCE_METADATA.tables["merchant"]), [merchant_row(10, contact_phone=BAD_PHONE)]
        )
    bank.run(CHECK_DATE + 2 * DAY)
    back = bank.todos()[f"{key(10)}:{PHONE}"]
    assert back["status"] == "open"
    assert (back["first_seen"], back["due_date"], back["reopen_count"]) == (
        first["first_seen"],
        first["due_date"],
        0,
    )
