"""The rules against the demo bank's ground truth, clause by clause, on SQLite and PostgreSQL.

Every injected defect must be found by a rule citing its clause, and no rule may cite a clause on a record
where that clause was not broken: the demo bank's valid-but-unusual values (IDs ending in X, residence
permits, 9999-12-31, chain stores, USCCs starting with N, landlines, names with ·) raise nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.compiler import python_failures
from expectations.contract import RECORD_TABLES, staff
from expectations.kinds import CheckContext
from expectations.rulebook import CLAUSE_IDS, Suite, load_suites
from expectations.runner import failing_records
from remediation.demobank import DemoBankSpec, InjectedDefect, generate_demo_bank
from tests.dbenv import BACKENDS, Databases

SPEC = DemoBankSpec()
SUITES = load_suites()
Pair = tuple[str, str, str]  # (table, record key, clause)
ODD_KINDS = {"control": "\r\n\t\x07\x1b", "zero-width": "\u200b\u2060\ufeff", "emoji": "😀☀"}


@dataclass
class Bank:
    engine: sa.Engine
    defects: list[InjectedDefect]
    ctx: CheckContext


@pytest.fixture(scope="module", params=BACKENDS)
def bank(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    dbs = Databases(request.param, tmp_path_factory.mktemp("detection"))
    engine = sa.create_engine(dbs.new("detection"))
    defects = generate_demo_bank(engine, SPEC)
    with engine.connect() as conn:
        active = conn.scalars(sa.select(staff.c.staff_id).where(staff.c.active == sa.true())).all()
    yield Bank(engine, defects, CheckContext(SPEC.check_date, active_staff=frozenset(active)))
    engine.dispose()
    dbs.drop_all()


def found_in_sql(bank: Bank) -> dict[Pair, set[str]]:
    """(table, key, clause) -> the rules citing that clause which fail on the record."""
    found: dict[Pair, set[str]] = defaultdict(set)
    for suite in SUITES:
        for record in failing_records(bank.engine, suite, bank.ctx):
            for rule in record.rules:
                for clause in rule.clauses:
                    found[(suite.table, record.record_key, clause)].add(rule.id)
    return found


def by_clause(pairs: set[Pair]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for table, key, clause in sorted(pairs):
        out[clause].append((table, key))
    return dict(out)


def test_the_demo_bank_breaks_many_clauses(bank: Bank) -> None:
    injected = {d.clause for d in bank.defects}
    assert len(injected) >= 18, sorted(set(CLAUSE_IDS) - injected)


def test_the_demo_bank_hides_control_and_zero_width_characters_and_emoji_in_names(bank: Bank) -> None:
    keys = [d.record_key for d in bank.defects if d.clause == "G2" and d.column == "mer_biz_name"]
    merchant = RECORD_TABLES["merchant"]
    with bank.engine.connect() as conn:
        names = conn.scalars(sa.select(merchant.c.mer_biz_name).where(merchant.c.mer_id.in_(keys))).all()
    odd = {kind for name in names for kind, chars in ODD_KINDS.items() if any(ch in name for ch in chars)}
    assert odd == set(ODD_KINDS), names


def test_every_injected_defect_is_found_by_a_rule_citing_its_clause(bank: Bank) -> None:
    found = found_in_sql(bank)
    injected = {(d.table, d.record_key, d.clause) for d in bank.defects}
    assert by_clause(injected - set(found)) == {}


def test_nothing_is_found_that_was_not_injected(bank: Bank) -> None:
    found = found_in_sql(bank)
    injected = {(d.table, d.record_key, d.clause) for d in bank.defects}
    extra = {pair: sorted(found[pair]) for pair in set(found) - injected}
    assert extra == {}


def _rows(engine: sa.Engine, suite: Suite) -> list[dict[str, Any]]:
    table = RECORD_TABLES[suite.table]
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table))]


def test_python_finds_what_sql_finds_on_the_whole_bank(bank: Bank) -> None:
    for suite in SUITES:
        rows = _rows(bank.engine, suite)
        in_python = {
            (str(row[suite.key]), rule_id)
            for row, failed in zip(rows, python_failures(suite, rows, bank.ctx), strict=True)
            for rule_id in failed
        }
        in_sql = {
            (r.record_key, rule.id) for r in failing_records(bank.engine, suite, bank.ctx) for rule in r.rules
        }
        assert in_python ^ in_sql == set(), suite.table
