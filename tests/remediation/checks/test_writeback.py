"""The write-back adapters: `update` changes exactly the corrected columns of one row; `outbox` files a
request and changes no source table. Refusals leave the source as it was. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.contract import merchant
from remediation.checks.writeback import (
    REQUESTS,
    CorrectionsOutbox,
    SourceRowUpdate,
    WriteBackError,
    writeback_for,
)
from remediation.errors import DqgovError
from tests.factories import build_source, merchant_row

KEY = str(merchant_row(1)["mer_id"])


@pytest.fixture
def source(databases: Any) -> sa.Engine:
    return build_source(databases.new("source"), [merchant_row(1), merchant_row(2)])


def rows(source: sa.Engine) -> list[dict[str, Any]]:
    with source.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(merchant).order_by(merchant.c.mer_id)).mappings()]


def test_update_changes_only_the_corrected_columns_of_one_row(source: sa.Engine) -> None:
    before = rows(source)
    reference = SourceRowUpdate(source).write("merchant", KEY, {"contact_phone": "13900139000"}, "M101")
    after = rows(source)
    assert reference == f"updated merchant {KEY}"
    changed = {k for k in after[0] if after[0][k] != before[0][k]}
    assert changed == {"contact_phone", "updated_at"} and after[1] == before[1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "closed"}, "cannot write column(s) status"),
        ({"mer_id": "x"}, "cannot write column(s) mer_id"),
        ({}, "cannot write column(s) (none)"),
    ],
)
def test_keys_status_and_routing_columns_are_not_corrections(
    source: sa.Engine, changes: dict[str, Any], message: str
) -> None:
    before = rows(source)
    for adapter in (SourceRowUpdate(source), CorrectionsOutbox(source)):
        with pytest.raises(WriteBackError, match=re.escape(message)):
            adapter.write("merchant", KEY, changes, "M101")
    assert rows(source) == before


def test_a_missing_record_is_refused(source: sa.Engine) -> None:
    with pytest.raises(WriteBackError, match="not in the source"):
        SourceRowUpdate(source).write("merchant", "102360458129999", {"contact_phone": "13900139000"}, "M101")


def test_outbox_files_a_request_and_leaves_the_record(source: sa.Engine) -> None:
    before = rows(source)
    reference = CorrectionsOutbox(source).write("merchant", KEY, {"contact_phone": "13900139000"}, "M101")
    assert rows(source) == before
    with source.connect() as conn:
        request = conn.execute(sa.select(REQUESTS)).mappings().one()
    assert reference == f"request {request['request_id']} in dq_correction_request"
    assert (request["table_name"], request["record_key"], request["requested_by"], request["status"]) == (
        "merchant",
        KEY,
        "M101",
        "pending",
    )
    assert json.loads(request["changes"]) == {"contact_phone": "13900139000"}


def test_the_setting_picks_the_adapter_and_a_wrong_one_is_named(source: sa.Engine) -> None:
    assert writeback_for(source, "update").name == "update"
    assert writeback_for(source, "outbox").source is source
    with pytest.raises(DqgovError, match="DQGOV_WRITEBACK='ftp': choose one of update, outbox"):
        writeback_for(source, "ftp")
