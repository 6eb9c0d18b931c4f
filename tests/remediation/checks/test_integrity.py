"""Closure integrity: no to-do closes unless the data proves it (stale runs, shrunken extracts, dates, bad keys),
and a mistaken run can be voided. On SQLite and PostgreSQL; the multi-process faults are in test_faults.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.contract import SOURCE_METADATA
from remediation.checks.pipeline import run_suite, validate
from remediation.checks.reconcile.run import reconcile_run
from remediation.checks.verification import claim_fixed, recheck_record
from remediation.checks.voiding import void_run
from remediation.checks.volume import VolumeGuardTripped
from remediation.errors import DqgovError, InvalidState, NotAllowed
from remediation.lifecycle import Lifecycle
from remediation.store.engines import open_store
from remediation.store.models import CheckRun, Finding, Todo, TodoEvent
from remediation.store.workflow_models import AuditEntry, OutboxMessage
from tests.checkbank import BAD_PHONE, PHONE, SUITES, Bank, key
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row, update_record

DAY = dt.timedelta(days=1)


@pytest.fixture
def bank(databases: Any) -> Bank:
    return Bank(databases)


# --- 1. stale and concurrent reconciles --------------------------------------------------------------------


def test_an_older_validated_run_is_superseded_by_a_newer_one_of_the_same_date(bank: Bank) -> None:
    """What an Airflow retry does: the older run of the same date reconciles after the newer one."""
    bank.run()
    before = bank.todos()
    older, newer = bank.validate(), bank.validate()
    assert reconcile_run(bank.store, newer, Lifecycle.in_force()).status == "reconciled"
    assert bank.run_row(older).status == "superseded"  # retired at once: the run list tells the truth
    assert (
        reconcile_run(bank.store, older, Lifecycle.in_force()).status == "superseded"
    )  # a retry changes nothing, raises nothing
    assert bank.todos() == before
    assert bank.count(Finding, Finding.run_id == older) == 0


def test_a_full_run_never_undoes_what_a_newer_recheck_proved(bank: Bank) -> None:
    bank.run()
    stale = bank.validate(CHECK_DATE + DAY)  # sees merchant 1 still failing
    update_record(bank.source, "merchant", key(1), contact_phone="13800138000")
    recheck_record(source_engine(bank.source_url), bank.store, "merchant", key(1), CHECK_DATE + DAY)
    assert bank.statuses()[f"{key(1)}:{PHONE}"] == "fixed"
    reconcile_run(bank.store, stale, Lifecycle.in_force())
    assert bank.statuses()[f"{key(1)}:{PHONE}"] == "fixed"  # not reopened by the older view of the record


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
        first["first_seen"], first["due_date"], 0,
    )  # fmt: skip


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


# --- 6. keys -----------------------------------------------------------------------------------------------


def keyless_source(url: str, merchants: list[dict[str, Any]]) -> sa.Engine:
    """The contract's tables, but `merchant` without a primary key, as some extracts are."""
    engine = build_source(url, [], [customer_row(1)])
    loose = sa.MetaData()
    table = sa.Table(
        "merchant", loose, *(sa.Column(c.name, c.type) for c in SOURCE_METADATA.tables["merchant"].c)
    )
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE merchant"))
    loose.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), merchants)
    return engine


def test_null_and_shared_keys_never_become_todos_and_leave_existing_ones_alone(databases: Any) -> None:
    source_url = databases.new("source")
    shared, stable = key(2), key(3)
    merchants = [
        merchant_row(1),
        merchant_row(2, contact_phone=BAD_PHONE),  # key(2), 张经理's …
        merchant_row(2, inst_code="110200", mgr_staff_id="M201", contact_phone=BAD_PHONE),  # … and 吴经理's
        merchant_row(3, contact_phone=BAD_PHONE),
        merchant_row(4, mer_id=None, contact_phone=BAD_PHONE),
    ]
    source = keyless_source(source_url, merchants)
    store = open_store(databases.new("store"))
    summary = run_suite(source_engine(source_url), store, SUITES["merchant"], CHECK_DATE)
    with store.connect() as conn:
        keys = set(conn.scalars(sa.select(Todo.record_key)))
        run = conn.execute(
            sa.select(CheckRun.__table__).where(CheckRun.id == summary.validation.run_id)
        ).one()
        alerts = conn.execute(sa.select(OutboxMessage.recipient, OutboxMessage.body)).all()
    assert keys == {stable}  # no "None" to-do, none for the shared key
    defects = json.loads(run.source_defects)
    assert (defects["null_keys"], defects["duplicate_keys"], defects["sample"]) == (1, 1, [shared])
    assert alerts and {r for r, _ in alerts} == {"D001"} and shared in alerts[0][1]
    assert "1 row(s) without mer_id" in summary.validation.source_defects

    with source.begin() as conn:  # the stable record is now shared too: its to-do stays exactly as it is
        conn.execute(
            sa.insert(sa.table("merchant", *(sa.column(c) for c in merchant_row(3)))),
            [merchant_row(3, inst_code="110200", mgr_staff_id="M201")],
        )
        conn.execute(
            sa.text("UPDATE merchant SET contact_phone = '13800138000' WHERE mer_id = :k"), {"k": stable}
        )
    with store.connect() as conn:
        before = conn.execute(sa.select(Todo.__table__)).all()
    run_suite(source_engine(source_url), store, SUITES["merchant"], CHECK_DATE + DAY)
    with store.connect() as conn:
        assert conn.execute(sa.select(Todo.__table__)).all() == before
