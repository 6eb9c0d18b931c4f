"""Values held twice beyond a hash table's room in `work_mem` keep the uniqueness rule (E4) linear.

`value IN (values held twice)` in a row's flags is a subplan: PostgreSQL hashes it only while the values
fit in `work_mem` × `hash_mem_multiplier`, and past that re-reads every value for every row. At 5M records
with 20% failing (about 200,000 values held twice, 4 MB) a check ran for hours. The derived layers join
the values instead (`expectations.derived`), and a hash join splits into batches on disk. Here `work_mem`
is cut to 64 kB so that a few thousand values are enough to cross that line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.compiler import FLAG_PREFIX, extraction_query, gx_batch_query
from expectations.kinds import CheckContext
from expectations.rulebook import load_suites
from tests.dbenv import Databases
from tests.factories import CHECK_DATE, build_source, customer_row, uscc

SUITE = next(s for s in load_suites() if s.table == "customer_org")
E4 = next(i for i, rule in enumerate(SUITE.rules) if rule.id == "CUS-E4-USCC-UNIQUE")
CTX = CheckContext(CHECK_DATE)
TWICE, ALONE = 3000, 1000
SMALL_MEMORY = "SET work_mem = '64kB'; SET hash_mem_multiplier = 1"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    dbs = Databases("postgresql", tmp_path_factory.mktemp("unique"))
    # Customers 1..TWICE share their USCC with TWICE+1..2*TWICE; the last ALONE hold their own.
    rows = [customer_row(i) for i in range(1, TWICE + ALONE + 1)]
    rows += [
        customer_row(TWICE + ALONE + i, uscc=uscc("91", f"360402MA{i:06d}0")) for i in range(1, TWICE + 1)
    ]
    engine = build_source(dbs.new("unique"), customers=rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE customer_org")  # the planner knows how many values there are
    yield engine
    engine.dispose()
    dbs.drop_all()


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _plan(conn: sa.Connection, stmt: sa.Select[Any]) -> dict[str, Any]:
    compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
    document = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled)).scalar_one()
    plan: dict[str, Any] = (document if isinstance(document, list) else json.loads(document))[0]["Plan"]
    return plan


@pytest.mark.parametrize("query", ["extraction", "gx batch"])
def test_no_subplan_reads_the_values_for_every_row(source: sa.Engine, query: str) -> None:
    stmt = (
        extraction_query(SUITE, CTX)
        if query == "extraction"
        else sa.select(sa.func.count()).where(gx_batch_query(SUITE, CTX).subquery().c.dq_u_uscc)
    )
    with source.connect() as conn:
        conn.exec_driver_sql(SMALL_MEMORY)
        plan = _plan(conn, stmt)
    # A subplan over the table itself (the staff lookup of G3 is one too, over a small table).
    plain = [
        n["Subplan Name"]
        for n in _nodes(plan)
        if n.get("Parent Relationship") == "SubPlan"
        and not n["Subplan Name"].startswith("hashed")
        and any(m.get("Relation Name") == "customer_org" for m in _nodes(n))
    ]
    assert not plain, f"subplans over the table run once per row: {plain}"


def test_values_held_twice_are_found_when_the_join_spills(source: sa.Engine) -> None:
    with source.connect() as conn:
        conn.exec_driver_sql(SMALL_MEMORY)
        flagged = {
            row[SUITE.key]
            for row in conn.execute(extraction_query(SUITE, CTX)).mappings()
            if row[f"{FLAG_PREFIX}{E4}"] == 1
        }
    shared = {f"C{i:011d}" for i in range(1, TWICE + 1)}
    shared |= {f"C{TWICE + ALONE + i:011d}" for i in range(1, TWICE + 1)}
    assert flagged == shared
