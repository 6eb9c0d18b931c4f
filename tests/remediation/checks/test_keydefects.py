"""Source defects in the key: rows without a key or sharing one never become to-dos and leave existing
ones alone; the data office is told. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.contract import SOURCE_METADATA
from remediation.checks.pipeline import run_suite
from remediation.store.engines import open_store
from remediation.store.models import CheckRun, Todo
from remediation.store.workflow_models import OutboxMessage
from tests.checkbank import BAD_PHONE, SUITES, Bank, key
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row

DAY = dt.timedelta(days=1)


@pytest.fixture
def bank(databases: Any) -> Bank:
    return Bank(databases)


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
