"""Great Expectations validates a whole suite with one scan of the table, not three statements per rule.

Every rule's failing count comes from one bundled `SELECT coalesce(sum(CASE …), 0), …` over the derived batch
(`compiler.gx_batch_query`); the sample of failing rows is asked for empty, so GX sends no statement per rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.kinds import CheckContext
from expectations.rulebook import load_suites
from expectations.runner import validate_with_gx
from remediation.checks.incremental import subset_where
from tests.dbenv import BACKENDS, Databases
from tests.factories import CHECK_DATE, build_source, merchant_row

SUITE = next(s for s in load_suites() if s.table == "merchant")


@pytest.fixture(params=BACKENDS)
def source(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[sa.Engine]:
    dbs = Databases(request.param, tmp_path)
    engine = build_source(dbs.new("gxstatements"), [merchant_row(1), merchant_row(2, uscc=None)])
    yield engine
    engine.dispose()
    dbs.drop_all()


def test_one_aggregate_statement_counts_every_rule(source: sa.Engine) -> None:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        gx = validate_with_gx(source, SUITE, CheckContext(CHECK_DATE))
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert {o.error for o in gx.outcomes.values()} == {None}
    assert gx.outcomes["MER-E2-USCC-REQUIRED"].unexpected == 1
    aggregates = [s for s in statements if s.lstrip().lower().startswith("select coalesce(sum(case")]
    assert len(aggregates) == 1
    assert aggregates[0].lower().count("sum(case") >= len(SUITE.rules)
    assert len(statements) <= 5  # no count(*), SUM(CASE …) or LIMIT 0 sample per rule
    # GX would learn the batch's columns by running the batch query whole, every row into memory
    assert not [s for s in statements if s.lstrip().startswith("SELECT dq_derived.")]


def test_an_empty_table_fails_no_rule(tmp_path: Any) -> None:
    for backend in BACKENDS:
        dbs = Databases(backend, tmp_path / backend)
        (tmp_path / backend).mkdir()
        engine = build_source(dbs.new("gxempty"), [])
        try:
            gx = validate_with_gx(engine, SUITE, CheckContext(CHECK_DATE))
            assert {(o.error, o.unexpected) for o in gx.outcomes.values()} == {(None, 0)}, backend
        finally:
            engine.dispose()
            dbs.drop_all()


def test_the_batch_query_is_parsed_once_not_for_each_metric(
    source: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GX wraps a query batch's text as a subquery for each metric domain it reads (~110 a suite); an
    incremental run's batch names thousands of keys, and each wrapping parses all of it again."""
    first, second = merchant_row(1)["mer_id"], merchant_row(2)["mer_id"]
    where = subset_where(SUITE, frozenset({first, second}), [], source.dialect)
    parses: list[str] = []
    init = sa.TextClause.__init__

    def counting(self: sa.TextClause, text: str, *args: Any, **kwargs: Any) -> None:
        if first in text:  # the batch query, not GX's own small texts
            parses.append(text)
        init(self, text, *args, **kwargs)

    monkeypatch.setattr(sa.TextClause, "__init__", counting)
    gx = validate_with_gx(source, SUITE, CheckContext(CHECK_DATE), where)
    assert {o.error for o in gx.outcomes.values()} == {None}
    assert gx.outcomes["MER-E2-USCC-REQUIRED"].unexpected == 1
    # three as GX builds the batch, one as it becomes the subquery every metric reads (before: one more
    # for each metric domain)
    assert 1 <= len(parses) <= 4, len(parses)
