"""The audit log's day filter counts Shanghai days on either backend: an entry made at 04:00 in Shanghai
(20:00 UTC the day before) belongs to the Shanghai day, on SQLite (which keeps wall times) as on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from remediation.workflow import audit as audit_module
from remediation.workflow.audit import audit
from tests.portal.conftest import Bank, Client, make_app, serve

EARLY = dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.UTC)  # 2026-12-01 04:00 in Shanghai


def test_an_entry_before_eight_in_the_morning_is_on_its_shanghai_day(
    any_bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_module, "now", lambda: EARLY)  # the clock the log stamps entries with
    audit(any_bank.store, "M102", "export", detail="to-dos csv")
    monkeypatch.undo()
    with serve(make_app(any_bank, today=lambda: dt.date(2026, 12, 1))) as url:
        office = Client(url)
        office.login("D001")
        on_the_day = office.get("/office/audit?who=M102&from=2026-12-01&to=2026-12-01")
        day_before = office.get("/office/audit?who=M102&from=2026-11-30&to=2026-11-30")
        exported = office.get("/office/audit.csv?who=M102&from=2026-12-01&to=2026-12-01")
    assert on_the_day.status == 200 and "2026-12-01 04:00" in on_the_day.text and "王经理" in on_the_day.text
    assert day_before.status == 200 and "王经理（M102）" not in day_before.text.split('id="audit"')[1]
    assert "王经理,M102" in exported.text
