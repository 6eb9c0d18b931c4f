"""The fast extraction query changes no finding: it flags exactly the rows and rules the plain one does.

`compiler.extraction_query` computes the values rules share once per row (`expectations.derived`) and
filters on the flags; `compiler.plain_extraction_query` writes every condition out in full, as the code
did before. On the demo bank and on rows hypothesis draws around the edge cases (blanks, placeholders,
NULLs, padded and garbled codes, duplicate USCCs), both must give the same (record, rule) pairs as each
other and as the Python form of every kind, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from expectations import checks
from expectations.compiler import FLAG_PREFIX, extraction_query, plain_extraction_query, python_failures
from expectations.contract import RECORD_TABLES, customer_org, merchant, staff
from expectations.kinds import CheckContext
from expectations.rulebook import Suite, load_suites
from remediation.demobank import DemoBankSpec, generate_demo_bank
from tests.dbenv import BACKENDS, Databases
from tests.factories import CHECK_DATE, STAFF, build_source, customer_row, merchant_row, uscc

SUITES = load_suites()
CTX = CheckContext(CHECK_DATE, active_staff=frozenset(s for s, _, _, _, active in STAFF if active))
Findings = set[tuple[str, str]]  # (record key, rule id)


def _in_sql(engine: sa.Engine, suite: Suite, stmt: sa.Select[Any]) -> Findings:
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    # Both statements return only the rows that fail a rule: a row with every flag 0 is one too many.
    flagless = [
        row[suite.key] for row in rows if not any(row[f"{FLAG_PREFIX}{i}"] for i in range(len(suite.rules)))
    ]
    assert not flagless, f"{suite.table}: rows that fail no rule: {flagless[:5]}"
    return {
        (str(row[suite.key]), rule.id)
        for row in rows
        for i, rule in enumerate(suite.rules)
        if row[f"{FLAG_PREFIX}{i}"]
    }


def _in_python(engine: sa.Engine, suite: Suite, ctx: CheckContext) -> Findings:
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(RECORD_TABLES[suite.table])).mappings()]
    failed = python_failures(suite, rows, ctx)
    return {(str(row[suite.key]), rule_id) for row, ids in zip(rows, failed, strict=True) for rule_id in ids}


@functools.cache
def _statements(table: str, ctx: CheckContext) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """Built once: an engine caches the compiled form of a statement it has run before."""
    suite = next(s for s in SUITES if s.table == table)
    return extraction_query(suite, ctx), plain_extraction_query(suite, ctx)


def assert_same_findings(engine: sa.Engine, ctx: CheckContext) -> int:
    total = 0
    for suite in SUITES:
        fast_query, plain_query = _statements(suite.table, ctx)
        fast = _in_sql(engine, suite, fast_query)
        plain = _in_sql(engine, suite, plain_query)
        assert fast ^ plain == set(), suite.table
        assert fast ^ _in_python(engine, suite, ctx) == set(), suite.table
        total += len(fast)
    return total


@pytest.fixture(scope="module", params=BACKENDS)
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    dbs = Databases(request.param, tmp_path_factory.mktemp("fastpath"))
    engine = sa.create_engine(dbs.new("fastpath"))
    yield engine
    engine.dispose()
    dbs.drop_all()


def test_the_demo_bank_gives_the_same_findings_both_ways(source: sa.Engine) -> None:
    spec = DemoBankSpec(merchants=1500, customers=800)
    generate_demo_bank(source, spec)
    with source.connect() as conn:
        active = conn.scalars(sa.select(staff.c.staff_id).where(staff.c.active == sa.true())).all()
    ctx = CheckContext(spec.check_date, active_staff=frozenset(active))
    assert assert_same_findings(source, ctx) > 200  # the bank has defects, so the comparison means something


def test_a_targeted_recheck_reads_one_record_and_flags_it_as_the_full_scan_does(source: sa.Engine) -> None:
    generate_demo_bank(source, DemoBankSpec(merchants=300, customers=100))
    suite = next(s for s in SUITES if s.table == "merchant")
    full = _in_sql(source, suite, extraction_query(suite, CTX))
    keys = sorted({key for key, _ in full})[:3]
    for key in keys:
        one = _in_sql(source, suite, extraction_query(suite, CTX, record_key=key))
        assert one == {(k, rule) for k, rule in full if k == key}
    stmt = extraction_query(suite, CTX, record_key=keys[0])
    sql = str(stmt.compile(source, compile_kwargs={"literal_binds": True}))
    # the key is looked up in the innermost query, under the fences, not after every row is evaluated
    assert re.search(rf"FROM merchant\s+WHERE mer_id = '{keys[0]}'", sql)


# Values around the edges of clause G2 and the code checks; no NUL (PostgreSQL text cannot hold it).
EDGES = ["", " ", "\u3000", "\t", "无", "***", "NULL", "-", "0000", "１２３", "张😀", "a\u200bb", "\r\n"]
ALPHABET = "0123456789XHM9 \u3000\t张李·AZaz０Ｚ😀\u200b\x07-省市"
text_values = st.one_of(
    st.none(),
    st.sampled_from(EDGES),
    st.text(alphabet=ALPHABET, max_size=20),
)
date_values = st.sampled_from(
    [None, CHECK_DATE, CHECK_DATE - dt.timedelta(days=1), dt.date(1899, 12, 31), dt.date(9999, 12, 31)]
)


@st.composite
def varied(draw: st.DrawFn, valid: dict[str, Any], table: sa.Table) -> dict[str, Any]:
    """A valid record with a few columns replaced: by an edge value, by padding, or by another record's."""
    row = dict(valid)
    names = [c.name for c in table.c if c.name not in ("mer_id", "cust_no", "updated_at")]
    for name in draw(st.lists(st.sampled_from(names), max_size=4, unique=True)):
        col = table.c[name]
        if isinstance(col.type, sa.Date):
            row[name] = draw(date_values)
        elif isinstance(col.type, sa.String) and name not in ("status", "inst_code", "mgr_staff_id"):
            value = row[name]
            blank = st.sampled_from(checks.BLANKS[:8] + " ")
            padded = st.builds(str.__add__, blank, st.just(value or ""))
            drawn = draw(st.one_of(text_values, padded))
            row[name] = drawn if drawn is None or col.type.length is None else drawn[: col.type.length]
        elif name == "status":
            row[name] = draw(st.sampled_from(["active", "closed", "dormant", None]))
        elif name == "mgr_staff_id":
            row[name] = draw(st.sampled_from([s for s, *_ in STAFF] + [None, "X999"]))
    return row


SHARED_USCC = uscc("91", "360402MA35L7XK9")


@st.composite
def banks(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    merchants = [draw(varied(merchant_row(i), merchant)) for i in range(draw(st.integers(1, 12)))]
    customers = []
    for i in range(draw(st.integers(1, 12))):
        base = customer_row(i, uscc=SHARED_USCC) if draw(st.booleans()) else customer_row(i)
        customers.append(draw(varied(base, customer_org)))
    return merchants, customers


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(bank=banks())
def test_drawn_records_give_the_same_findings_both_ways(
    source: sa.Engine, bank: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    build_source(source.url.render_as_string(hide_password=False), *bank).dispose()
    assert_same_findings(source, CTX)
