"""Dates and voiding: a future check date is refused; a mistaken run is voided and its to-dos put back.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.checks.pipeline import validate
from remediation.checks.verification import claim_fixed
from remediation.checks.voiding import void_run
from remediation.errors import DqgovError, InvalidState, NotAllowed
from remediation.store.models import CheckRun, TodoEvent
from remediation.store.workflow_models import AuditEntry
from tests.checkbank import BAD_PHONE, PHONE, SUITES, Bank, key
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, update_record

DAY = dt.timedelta(days=1)


@pytest.fixture
def bank(databases: Any) -> Bank:
    return Bank(databases)


# --- 3. dates and voiding ----------------------------------------------------------------------------------


def test_a_check_date_after_today_is_refused_before_anything_is_written(bank: Bank) -> None:
    with pytest.raises(DqgovError, match=r"check date 2099-03-03 is after today"):
        validate(source_engine(bank.source_url), bank.store, SUITES["merchant"], dt.date(2099, 3, 3))
    assert bank.count(CheckRun) == 0


def test_voiding_a_mistaken_run_gives_the_todos_back(bank: Bank) -> None:
    bank.run()
    before = bank.todos()
    for seq in range(1, 6):  # the mistaken run sees five records fixed and one new defect
        update_record(bank.source, "merchant", key(seq), contact_phone="13800138000")
    update_record(bank.source, "merchant", key(20), contact_phone=BAD_PHONE)
    mistaken = bank.run(CHECK_DATE + DAY)
    assert (mistaken.reconcile.fixed, mistaken.reconcile.opened) == (5, 1)
    claim_fixed(bank.store, before[f"{key(6)}:{PHONE}"]["id"], "M101")  # a person acts after the run
    voided = void_run(bank.store, mistaken.validation.run_id, "D001", reason="wrong extract")
    assert (voided.cancelled, voided.restored, voided.left) == (1, 5, ())
    after = bank.todos()
    for name, todo in before.items():
        expected = dict(todo, status="pending_verification") if name == f"{key(6)}:{PHONE}" else todo
        assert {k: after[name][k] for k in ("status", "due_date", "closed_on", "card", "reopen_count")} == {
            k: expected[k] for k in ("status", "due_date", "closed_on", "card", "reopen_count")
        }
    assert after[f"{key(20)}:{PHONE}"]["status"] == "void"
    assert bank.run_row(mistaken.validation.run_id).status == "void"
    with bank.store.connect() as conn:
        actions = conn.execute(sa.select(AuditEntry.staff_id, AuditEntry.action)).all()
        voided_events = conn.scalar(
            sa.select(sa.func.count())
            .select_from(TodoEvent)
            .where(TodoEvent.event.in_(["voided", "run_voided"]))
        )
    assert ("D001", "run_voided") in set(actions) and voided_events == 6
    again = bank.run(CHECK_DATE + DAY)  # the void run supersedes nothing: a real run applies
    assert again.reconcile.status == "reconciled" and again.reconcile.fixed == 5


def test_only_the_newest_run_is_voided_and_only_by_the_data_office(bank: Bank) -> None:
    first = bank.run().validation.run_id
    bank.run(CHECK_DATE + DAY)
    with pytest.raises(InvalidState, match=r"void run \d+ first"):
        void_run(bank.store, first, "D001")
    with pytest.raises(NotAllowed):
        void_run(bank.store, first + 1, "M101")
