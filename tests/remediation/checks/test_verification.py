""" "Fixed" claims and targeted re-checks: only a passing check closes a to-do; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.checks.verification import claim_fixed, recheck_record
from remediation.errors import InvalidState, NotAllowed, NotFound
from remediation.store.models import CheckRun, CheckRunRule, Todo, TodoEvent
from remediation.store.workflow_models import Exemption
from remediation.workflow.appeals import coordinate, file_appeal
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, update_record
from tests.workflowbank import GOOD_PHONE, Bank, aware, build_bank, key

PHONE = "MER-C1-PHONE-FORMAT"
LICENCE = "MER-E5-LICENCE-EXPIRED"
DAY = dt.timedelta(days=1)


@pytest.fixture
def bank(databases: Any) -> Bank:
    return build_bank(databases)


def recheck(bank: Bank, seq: int, day: dt.date = CHECK_DATE + DAY) -> Any:
    return recheck_record(source_engine(bank.source_url), bank.store, "merchant", key(seq), day)


def test_claiming_fixed_waits_for_a_check(bank: Bank) -> None:
    todo_id = bank.todo_id(3, PHONE)
    before = dt.datetime.now(dt.UTC)
    claim_fixed(bank.store, todo_id, "M101", "已联系商户更正手机号")
    todo = bank.todo(3, PHONE)
    assert (todo["status"], todo["closed_on"]) == ("pending_verification", None)
    assert bank.events(todo_id)[-1] == ("claimed_fixed", "M101", "open", "pending_verification")
    assert bank.todo(3, LICENCE)["status"] == "open"  # the record's other to-do is not claimed

    unchanged = bank.dump()
    with pytest.raises(InvalidState, match=f"to-do {todo_id} is already waiting for a check"):
        claim_fixed(bank.store, todo_id, "M101")
    with pytest.raises(NotAllowed, match=f"to-do {bank.todo_id(2, PHONE)} is assigned to M101, not M102"):
        claim_fixed(bank.store, bank.todo_id(2, PHONE), "M102")
    with pytest.raises(NotFound, match="no to-do 999"):
        claim_fixed(bank.store, 999, "M101")
    assert bank.dump() == unchanged
    with bank.store.connect() as conn:
        at = conn.scalar(sa.select(sa.func.max(TodoEvent.at)).where(TodoEvent.event == "claimed_fixed"))
    assert at is not None and before <= aware(at) <= dt.datetime.now(dt.UTC)


def test_a_recheck_of_the_corrected_record_closes_exactly_its_fixed_todo(bank: Bank) -> None:
    claimed = bank.todo_id(3, PHONE)
    claim_fixed(bank.store, claimed, "M101")
    update_record(bank.source, "merchant", key(3), contact_phone=GOOD_PHONE)
    update_record(bank.source, "merchant", key(2), contact_phone=GOOD_PHONE)  # fixed too, but not re-checked
    others_before = {k: v for k, v in _todos(bank).items() if k != claimed}
    licence_events = bank.events(bank.todo_id(3, LICENCE))

    summary = recheck(bank, 3)

    assert summary.failing_rules == (LICENCE,)
    assert (summary.reconcile.fixed, summary.reconcile.opened, summary.reconcile.reopened) == (1, 0, 0)
    fixed = bank.todo(3, PHONE)
    assert (fixed["status"], fixed["closed_on"], fixed["transition_run_id"]) == (
        "fixed",
        CHECK_DATE + DAY,
        summary.run_id,
    )
    assert bank.events(claimed)[-1] == ("fixed", "system", "pending_verification", "fixed")
    after = _todos(bank)
    # the record's still-failing to-do keeps its state and history; other records' to-dos are untouched
    licence = after[bank.todo_id(3, LICENCE)]
    assert (licence["status"], licence["last_seen"]) == ("open", CHECK_DATE + DAY)
    assert bank.events(bank.todo_id(3, LICENCE)) == licence_events
    assert {k: v for k, v in after.items() if k not in (claimed, licence["id"])} == {
        k: v for k, v in others_before.items() if k != licence["id"]
    }
    assert [t.status for t in summary.todos] == ["fixed", "open"]

    with bank.store.connect() as conn:
        run = conn.execute(sa.select(CheckRun.__table__).where(CheckRun.id == summary.run_id)).one()
        rules = conn.execute(
            sa.select(CheckRunRule.status, CheckRunRule.unexpected).where(
                CheckRunRule.run_id == summary.run_id
            )
        ).all()
    assert (run.trigger, run.record_key, run.status, run.records_total, run.findings) == (
        "recheck",
        key(3),
        "reconciled",
        1,
        1,
    )
    assert {tuple(r) for r in rules} == {("ok", None)}

    # the next daily run agrees, and closes the record nobody re-checked
    bank.run(CHECK_DATE + DAY)
    assert bank.todo(3, PHONE)["status"] == bank.todo(2, PHONE)["status"] == "fixed"


def test_a_recheck_that_still_fails_returns_the_todo_to_open(bank: Bank) -> None:
    todo_id = bank.todo_id(2, PHONE)
    claim_fixed(bank.store, todo_id, "M101")
    summary = recheck(bank, 2)
    assert summary.failing_rules == (PHONE,)
    assert bank.todo(2, PHONE)["status"] == "open"
    assert bank.events(todo_id)[-2:] == [
        ("claimed_fixed", "M101", "open", "pending_verification"),
        ("verification_failed", "system", "pending_verification", "open"),
    ]
    claim_fixed(bank.store, todo_id, "M101")  # and it may be claimed again


def test_a_recheck_of_a_closed_record_closes_its_todos_as_out_of_scope(bank: Bank) -> None:
    claim_fixed(bank.store, bank.todo_id(3, PHONE), "M101")
    update_record(bank.source, "merchant", key(3), status="closed")
    summary = recheck(bank, 3)
    assert summary.failing_rules == ()
    assert bank.todo(3, PHONE)["status"] == bank.todo(3, LICENCE)["status"] == "out_of_scope"
    assert summary.reconcile.out_of_scope == 2


def test_a_recheck_of_an_exempted_record_that_is_now_correct_ends_the_exemption(bank: Bank) -> None:
    todo_id = bank.todo_id(2, PHONE)
    coordinate(
        bank.store, file_appeal(bank.store, todo_id, "M101", "误报"), "S101", "accept", today=CHECK_DATE
    )
    update_record(bank.source, "merchant", key(2), contact_phone=GOOD_PHONE)
    recheck(bank, 2)
    assert bank.todo(2, PHONE)["status"] == "fixed"
    with bank.store.connect() as conn:
        exemption = conn.execute(sa.select(Exemption.status, Exemption.ended_on)).one()
    assert tuple(exemption) == ("lapsed", CHECK_DATE + DAY)


def test_a_recheck_refuses_a_record_the_source_does_not_have(bank: Bank) -> None:
    before = bank.dump()
    with pytest.raises(NotFound, match="merchant '102360458129999' does not exist in the source"):
        recheck_record(source_engine(bank.source_url), bank.store, "merchant", "102360458129999", CHECK_DATE)
    with pytest.raises(NotFound, match="no rules for record type 'shop'"):
        recheck_record(source_engine(bank.source_url), bank.store, "shop", key(2), CHECK_DATE)
    assert bank.dump() == before


def test_a_recheck_dated_before_the_last_daily_run_changes_nothing(bank: Bank) -> None:
    claim_fixed(bank.store, bank.todo_id(3, PHONE), "M101")
    update_record(bank.source, "merchant", key(3), contact_phone=GOOD_PHONE)
    summary = recheck(bank, 3, CHECK_DATE - DAY)
    assert summary.reconcile.status == "superseded"
    assert bank.todo(3, PHONE)["status"] == "pending_verification"


def _todos(bank: Bank) -> dict[int, dict[str, Any]]:
    with bank.store.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(sa.select(Todo.__table__)).mappings()}
