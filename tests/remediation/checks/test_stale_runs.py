"""Stale and concurrent reconciles: a run applies only while it is the newest of its table; a full run
never undoes what a newer re-check proved. On SQLite and PostgreSQL (multi-process faults: test_faults.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from remediation.checks.reconcile.run import reconcile_run
from remediation.checks.verification import recheck_record
from remediation.lifecycle import Lifecycle
from remediation.store.models import Finding
from tests.checkbank import PHONE, Bank, key
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, update_record

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
