"""Two source rows with one key (a source table without a primary key constraint): one account manager's
correction must never show or change another manager's row. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.checks.corrections import submit_correction
from remediation.checks.pipeline import run_suite
from remediation.checks.writeback import (
    REQUESTS,
    AmbiguousKeyWrite,
    CorrectionsOutbox,
    SourceRowUpdate,
    WriteBackError,
)
from remediation.errors import AmbiguousKey
from remediation.store.engines import create_engine, open_store
from remediation.store.models import Todo
from remediation.store.source_records import read_record, record_rows
from remediation.store.workflow_models import AuditEntry, Correction
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, add_row, build_source, merchant_row, without_primary_key

SUITES = load_suites()
BAD_PHONE = "12345678901"
OTHER_PHONE = "13900139000"  # the phone on 王经理's row that shares the key
KEY = merchant_row(1)["mer_id"]


class Shared:
    """Merchant 1 (张经理's, a bad phone) checked into a to-do; then the source gains a second row with
    the same key, belonging to 王经理 (M102)."""

    def __init__(self, databases: Databases) -> None:
        self.source_url = databases.new("source")
        self.source = build_source(
            self.source_url, [merchant_row(1, contact_phone=BAD_PHONE), merchant_row(2)]
        )
        without_primary_key(self.source)
        self.store = open_store(databases.new("store"))
        run_suite(
            source_engine(self.source_url),
            self.store,
            next(s for s in SUITES if s.table == "merchant"),
            CHECK_DATE,
        )
        add_row(
            self.source,
            "merchant",
            merchant_row(1, mgr_staff_id="M102", legal_rep_name="王五", contact_phone=OTHER_PHONE),
        )
        with self.store.connect() as conn:
            self.todo_id = conn.scalar(
                sa.select(Todo.id).where(Todo.record_key == KEY, Todo.rule_id == "MER-C1-PHONE-FORMAT")
            )

    def phones(self) -> list[str]:
        with self.source.connect() as conn:
            return sorted(
                conn.scalars(sa.text("SELECT contact_phone FROM merchant WHERE mer_id = :k"), {"k": KEY})
            )

    def requests(self) -> int:
        with self.source.connect() as conn:
            if not sa.inspect(conn).has_table(REQUESTS.name):
                return 0
            return int(conn.scalar(sa.select(sa.func.count()).select_from(REQUESTS)) or 0)


@pytest.fixture
def shared(databases: Databases) -> Shared:
    return Shared(databases)


def test_the_record_is_counted_and_reading_it_is_refused(shared: Shared) -> None:
    assert record_rows(shared.source, "merchant", KEY) == 2
    assert record_rows(shared.source, "merchant", merchant_row(2)["mer_id"]) == 1
    assert record_rows(shared.source, "merchant", "nope") == 0
    with pytest.raises(AmbiguousKey) as raised:
        read_record(shared.source, "merchant", KEY)
    assert (raised.value.rows, raised.value.record_key) == (2, KEY)
    assert str(raised.value).startswith(f"two source rows share key {KEY} of merchant (2 in all)")
    record = read_record(shared.source, "merchant", merchant_row(2)["mer_id"])
    assert record is not None and record["mgr_staff_id"] == "M101"


@pytest.mark.parametrize("adapter", [SourceRowUpdate, CorrectionsOutbox])
def test_a_correction_is_refused_with_the_reason_and_nothing_is_written(shared: Shared, adapter: Any) -> None:
    writeback = adapter(create_engine(shared.source_url, "source"))
    assert shared.todo_id is not None
    with pytest.raises(AmbiguousKey):
        submit_correction(
            shared.store,
            source_engine(shared.source_url),
            shared.todo_id,
            "M101",
            {"contact_phone": "13800138000"},
            writeback,
            check_date=CHECK_DATE,
            suites=SUITES,
        )
    assert shared.phones() == sorted([BAD_PHONE, OTHER_PHONE]) and shared.requests() == 0
    with shared.store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Correction)) == 0
        refused = conn.execute(
            sa.select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.staff_id == "M101")
        ).all()
    assert [tuple(r) for r in refused] == [
        ("correction_refused", f"to-do {shared.todo_id}: 2 source rows share the key")
    ]


@pytest.mark.parametrize("adapter", [SourceRowUpdate, CorrectionsOutbox])
def test_each_write_back_adapter_refuses_an_ambiguous_key_by_itself(shared: Shared, adapter: Any) -> None:
    writeback = adapter(create_engine(shared.source_url, "source"))
    with pytest.raises(AmbiguousKeyWrite) as raised:
        writeback.write("merchant", KEY, {"contact_phone": "13800138000"}, "M101")
    assert isinstance(raised.value, WriteBackError) and raised.value.rows == 2
    assert shared.phones() == sorted([BAD_PHONE, OTHER_PHONE]) and shared.requests() == 0
    with pytest.raises(WriteBackError, match="not in the source"):
        writeback.write("merchant", "nope", {"contact_phone": "13800138000"}, "M101")
