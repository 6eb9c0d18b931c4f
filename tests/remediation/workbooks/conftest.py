"""A tiny bank checked once, with to-dos for M101 (and one for M102), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.checks.pipeline import run_suite
from remediation.store.engines import open_store
from remediation.store.models import Todo
from remediation.workbooks.todo_export import ExportScope, export_todos
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, build_source, merchant_row

SUITES = load_suites()
BAD_PHONE = "12345678901"


class Bank:
    def __init__(self, databases: Databases, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.source_url = databases.new("source")
        self.source = build_source(
            self.source_url,
            [
                merchant_row(1, contact_phone=BAD_PHONE),
                merchant_row(2, legal_rep_id_type="09"),
                merchant_row(3, contact_phone="1380013800"),
                merchant_row(4, contact_phone=BAD_PHONE, mgr_staff_id="M102"),
                merchant_row(5, contact_phone="=HYPERLINK(1)", mer_type="micro", mer_reg_name="张小明"),
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

    def export(self, name: str = "todos.xlsx", **scope: str) -> Path:
        out = self.tmp / name
        export_todos(
            self.store,
            source_engine(self.source_url),
            ExportScope(**scope),
            out,
            issued_by="test",
            suites=SUITES,
        )
        return out


@pytest.fixture
def bank(databases: Databases, tmp_path: Path) -> Bank:
    return Bank(databases, tmp_path)
