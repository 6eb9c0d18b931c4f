"""On PostgreSQL, a table's rules are evaluated by parallel workers, not only scanned by them.

The derived layers (`expectations.derived`) are walled off by a volatile column instead of `LIMIT`, so
the planner may put one Gather above them: the workers strip the values and compute every rule's flag,
and filter on them. With the old `LIMIT ALL OFFSET 0` walls the same statement got
no Gather at all, or one over a bare scan. The planner's costs are set to favour parallel plans, since the
test tables are tiny.

A uniqueness rule (customer_org, E4) groups the values held twice under a Gather of its own, which no
worker may run. Joined inside the layers it kept the rest of the table's evaluation in the leader; joined
after the flags (`DerivedValues.failing_rows`) the workers compute every flag and the leader only the join.
Its answers are held by `test_fast_path` and `test_subset_peers`, its plan at scale by
`test_uniqueness_at_scale`. Great Expectations' batch still joins the values inside the layers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.compiler import extraction_query, gx_batch_query
from expectations.kinds import CheckContext
from expectations.rulebook import load_suites
from expectations.runner import failing_records
from tests.dbenv import Databases
from tests.factories import CHECK_DATE, build_source, customer_row, merchant_row

SUITES = {s.table: s for s in load_suites()}
SUITE = SUITES["merchant"]
CTX = CheckContext(CHECK_DATE)
# Tiny tables scanned by two workers: the staff table too, whose scan then gets a Gather of its own. As a
# subplan in the flags (G3's `NOT IN`) that kept every flag in the leader, since no worker may run a Gather;
# as a row fact (a join after the flags) it does not.
PARALLEL = (
    "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; "
    "SET max_parallel_workers_per_gather = 2"
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    dbs = Databases("postgresql", tmp_path_factory.mktemp("parallel"))
    rows = [merchant_row(i) for i in range(1, 40)] + [merchant_row(40, mer_biz_name=" 好运来餐厅 ")]
    customers = [customer_row(i) for i in range(1, 40)] + [customer_row(40, uscc=customer_row(1)["uscc"])]
    engine = build_source(dbs.new("parallel"), merchants=rows, customers=customers)
    yield engine
    engine.dispose()
    dbs.drop_all()


def _plan(source: sa.Engine, stmt: sa.Select[Any], verbose: bool = False) -> dict[str, Any]:
    with source.connect() as conn:
        conn.exec_driver_sql(PARALLEL)
        compiled = stmt.compile(conn, compile_kwargs={"render_postcompile": True})
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cur:
            options = "FORMAT JSON, VERBOSE" if verbose else "FORMAT JSON"
            cur.execute(f"EXPLAIN ({options}) " + compiled.string, compiled.params)
            row = cur.fetchone()
    assert row is not None
    document = row[0] if isinstance(row[0], list) else json.loads(row[0])
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


def _gathers(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The Gathers of the statement's own rows, not those of a subplan (the active staff, say)."""
    if node["Node Type"] in ("Gather", "Gather Merge"):
        yield node
    for child in node.get("Plans", ()):
        if child.get("Parent Relationship") not in ("SubPlan", "InitPlan"):
            yield from _gathers(child)


def _subtree(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _subtree(child)


def _is_flag(output: Any) -> bool:
    text = str(output)
    return text.startswith("CASE") and text.endswith("THEN 1 ELSE 0 END")


@pytest.mark.parametrize(
    ("table", "query"), [("merchant", "extraction"), ("merchant", "gx batch"), ("customer_org", "extraction")]
)
def test_the_workers_evaluate_the_rules(source: sa.Engine, table: str, query: str) -> None:
    suite = SUITES[table]
    stmt = (
        extraction_query(suite, CTX)
        if query == "extraction"
        else sa.select(sa.func.count()).select_from(gx_batch_query(suite, CTX).subquery())
    )
    gathers = list(_gathers(_plan(source, stmt, verbose=True)))
    assert gathers, "no parallel plan"
    below = [g["Plans"][0] for g in gathers]
    if query == "extraction":
        # Every rule's flag (a CASE each) is computed below a Gather, in the workers: not only the
        # stripping, as when customer_org's values held twice were joined inside the layers. Those values
        # have a Gather of their own.
        # (A flag is `CASE WHEN … THEN 1 ELSE 0 END`; a stripped value is a CASE too, but not that.)
        nodes = [n for node in below for n in _subtree(node)]
        flags = [sum(_is_flag(out) for out in n.get("Output", ())) for n in nodes]
        assert max(flags) >= len(suite.rules), [(n["Node Type"], n.get("Alias")) for n in nodes]
    else:
        # More than a scan: the layers, or a partial aggregate over them.
        assert all(node["Node Type"] not in ("Seq Scan", "Parallel Seq Scan") for node in below), below


@pytest.mark.parametrize("table", ["merchant", "customer_org"])
def test_the_extractor_reads_what_the_statement_selects(source: sa.Engine, table: str) -> None:
    """The extractor streams without a server-side cursor: the same records as the statement itself,
    under the parallel costs."""
    suite = SUITES[table]
    with source.connect() as conn:
        conn.exec_driver_sql(PARALLEL)
        expected = {row[suite.key] for row in conn.execute(extraction_query(suite, CTX)).mappings()}
    streamed = {record.record_key for record in failing_records(source, suite, CTX, batch_size=3)}
    assert streamed == expected
    held_twice = {f"C{1:011d}", f"C{40:011d}"} if table == "customer_org" else {f"10236045812{40:04d}"}
    assert held_twice <= streamed  # the same USCC (E4); padded with blanks (G2)


def test_a_reader_that_stops_early_lets_the_connection_go(source: sa.Engine) -> None:
    """A caller that stops reading (or fails) mid-stream: the stream is closed before its connection, or
    the connection's rollback would wait for ever on the lock the suspended stream holds."""

    def stop_after_one() -> None:
        records = failing_records(source, SUITE, CTX, batch_size=1)
        next(records)
        records.close()
        with source.connect() as conn:  # the pool hands the connection out again
            conn.execute(sa.text("SELECT 1"))

    worker = threading.Thread(target=stop_after_one, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "closing the extractor mid-stream hung"
