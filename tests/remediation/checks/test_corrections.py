"""Fix in place: corrections validated by the same rules, written back, re-checked; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.checks.corrections import submit_correction
from remediation.checks.pipeline import run_suite
from remediation.checks.writeback import REQUESTS, CorrectionsOutbox, SourceRowUpdate, WriteBackError
from remediation.errors import InvalidState, NotAllowed
from remediation.store.engines import create_engine, open_store
from remediation.store.models import Todo, TodoEvent
from remediation.store.workflow_models import Correction
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, build_source, merchant_row, resident_id

BAD_PHONE = "12345678901"
BAD_ID = "360402198506121230"
SUITES = load_suites()


class Checked:
    def __init__(self, databases: Databases) -> None:
        self.source_url = databases.new("source")
        self.source = build_source(
            self.source_url,
            [
                merchant_row(1, contact_phone=BAD_PHONE),
                merchant_row(2, legal_rep_id_no=BAD_ID),
                merchant_row(3),
            ],
        )
        self.store = open_store(databases.new("store"))
        run_suite(
            source_engine(self.source_url),
            self.store,
            next(s for s in SUITES if s.table == "merchant"),
            CHECK_DATE,
        )

    def todo(self, seq: int, rule_id: str) -> Any:
        with self.store.connect() as conn:
            return conn.execute(
                sa.select(Todo).where(Todo.record_key == merchant_row(seq)["mer_id"], Todo.rule_id == rule_id)
            ).one()

    def value(self, seq: int, column: str) -> Any:
        with self.source.connect() as conn:
            return conn.execute(
                sa.text(f"SELECT {column} FROM merchant WHERE mer_id = :k"),
                {"k": merchant_row(seq)["mer_id"]},
            ).scalar_one()

    def correct(
        self, todo_id: int, changes: Mapping[str, str], staff: str = "M101", adapter: Any = None
    ) -> Any:
        writeback = adapter or SourceRowUpdate(create_engine(self.source_url, "source"))
        return submit_correction(
            self.store,
            source_engine(self.source_url),
            todo_id,
            staff,
            changes,
            writeback,
            check_date=CHECK_DATE,
            suites=SUITES,
        )

    def corrections(self) -> list[Any]:
        with self.store.connect() as conn:
            return list(conn.execute(sa.select(Correction).order_by(Correction.id)))


@pytest.fixture
def checked(databases: Databases) -> Checked:
    return Checked(databases)


def test_a_wrong_value_is_refused_with_the_rules_message_and_a_right_one_closes_the_todo(
    checked: Checked,
) -> None:
    todo = checked.todo(1, "MER-C1-PHONE-FORMAT")
    refused = checked.correct(todo.id, {"contact_phone": "1380013800"})
    assert refused.status == "refused"
    [error] = refused.errors["contact_phone"]
    assert error.rule_id == "MER-C1-PHONE-FORMAT" and "手机号" in error.description and error.hint
    assert checked.value(1, "contact_phone") == BAD_PHONE and checked.corrections() == []
    done = checked.correct(todo.id, {"contact_phone": "13800138000"})
    assert done.status == "verified" and done.todo_status == "fixed"
    assert checked.value(1, "contact_phone") == "13800138000"
    [correction] = checked.corrections()
    assert correction.status == "verified" and json.loads(correction.changes) == {
        "contact_phone": "138****8000"
    }
    with checked.store.connect() as conn:
        events = list(
            conn.scalars(
                sa.select(TodoEvent.event).where(TodoEvent.todo_id == todo.id).order_by(TodoEvent.id)
            )
        )
    assert events == ["opened", "corrected", "fixed"]
    with checked.store.connect() as conn:
        said = conn.scalar(sa.select(TodoEvent.detail).where(TodoEvent.event == "corrected"))
    assert (
        said == f"correction {correction.id}: contact_phone: 123****8901 → 138****8000"
    )  # old → new, masked


def test_a_correction_that_breaks_another_rule_is_refused_on_that_field(checked: Checked) -> None:
    todo = checked.todo(2, "MER-P3-LEGAL-REP-ID-VALID")
    refused = checked.correct(todo.id, {"legal_rep_id_no": " " + resident_id(), "legal_rep_id_type": "01"})
    assert refused.status == "refused"
    assert [e.rule_id for e in refused.errors["legal_rep_id_no"]] == ["MER-G2-LEGAL-REP-ID-NO-TEXT"]
    assert checked.value(2, "legal_rep_id_no") == BAD_ID
    assert (
        checked.correct(todo.id, {"legal_rep_id_no": resident_id(), "legal_rep_id_type": "01"}).status
        == "verified"
    )


def test_unreadable_values_are_refused_per_field(checked: Checked) -> None:
    todo = checked.todo(2, "MER-P3-LEGAL-REP-ID-VALID")
    with checked.store.begin() as conn:  # let the to-do's rule be about a date for this test
        conn.execute(sa.update(Todo).where(Todo.id == todo.id).values(rule_id="MER-P4-LEGAL-REP-ID-EXPIRED"))
    refused = checked.correct(todo.id, {"legal_rep_id_end": "31/12/2030"})
    assert refused.status == "refused" and refused.errors["legal_rep_id_end"][0].code == "date"


def test_the_outbox_adapter_queues_a_request_and_the_todo_waits_for_a_check(checked: Checked) -> None:
    todo = checked.todo(1, "MER-C1-PHONE-FORMAT")
    outcome = checked.correct(
        todo.id,
        {"contact_phone": "13800138000"},
        adapter=CorrectionsOutbox(create_engine(checked.source_url, "source")),
    )
    assert (
        outcome.status == "queued" and checked.todo(1, "MER-C1-PHONE-FORMAT").status == "pending_verification"
    )
    assert checked.value(1, "contact_phone") == BAD_PHONE  # the bank's system applies it, not us
    with checked.source.connect() as conn:
        [request] = conn.execute(sa.select(REQUESTS)).all()
    assert request.record_key == merchant_row(1)["mer_id"] and request.requested_by == "M101"
    assert json.loads(request.changes) == {"contact_phone": "13800138000"} and request.status == "pending"


def test_a_write_back_failure_changes_nothing_but_is_recorded(checked: Checked) -> None:
    class Down:
        name = "update"
        immediate = True

        def write(self, table: str, record_key: str, changes: Mapping[str, Any], staff_id: str) -> str:
            raise WriteBackError("the source refused the update: database is locked")

    todo = checked.todo(1, "MER-C1-PHONE-FORMAT")
    outcome = checked.correct(todo.id, {"contact_phone": "13800138000"}, adapter=Down())
    assert outcome.status == "write_failed" and "locked" in outcome.detail
    assert checked.todo(1, "MER-C1-PHONE-FORMAT").status == "open"
    assert [c.status for c in checked.corrections()] == ["write_failed"]


def test_only_the_assignee_corrects_and_only_an_active_todo(checked: Checked) -> None:
    todo = checked.todo(1, "MER-C1-PHONE-FORMAT")
    with pytest.raises(NotAllowed):
        checked.correct(todo.id, {"contact_phone": "13800138000"}, staff="M102")
    checked.correct(todo.id, {"contact_phone": "13800138000"})
    with pytest.raises(InvalidState):
        checked.correct(todo.id, {"contact_phone": "13800138001"})
