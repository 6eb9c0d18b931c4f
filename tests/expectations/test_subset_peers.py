"""A run over a few records (incremental, a partition) finds the same duplicate values as a run over all.

With `where`, the uniqueness rule (E4) compares the picked records only with the records holding their
values (`kinds.records._held_twice`), not with the whole table grouped. A picked record whose peer is
not picked, is padded with blanks, or is closed must get the verdict the whole table gives it, in the
extractor and in Great Expectations alike, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.compiler import FLAG_PREFIX, extraction_query, source_columns
from expectations.kinds import CheckContext
from expectations.rulebook import load_suites
from expectations.runner import validate_with_gx
from tests.dbenv import BACKENDS, Databases
from tests.factories import CHECK_DATE, build_source, customer_row, uscc

SUITE = next(s for s in load_suites() if s.table == "customer_org")
UNIQUE = "CUS-E4-USCC-UNIQUE"
CTX = CheckContext(CHECK_DATE)
SHARED, PADDED, CLOSED_PEER = (
    uscc("91", "360402MA9999910"),
    uscc("91", "360402MA9999920"),
    uscc("91", "360402MA9999930"),
)
CUSTOMERS = [
    customer_row(1, uscc=SHARED),
    customer_row(2, uscc=SHARED),  # not picked: c1's peer
    customer_row(3, uscc=PADDED),
    customer_row(4, uscc=f" {PADDED}\u3000"),  # the same value once stripped
    customer_row(5, uscc=CLOSED_PEER),
    customer_row(6, uscc=CLOSED_PEER, status="closed"),  # out of scope: c5 is unique
    customer_row(7, uscc="NULL"),
    customer_row(8, uscc="NULL"),  # placeholder text: not judged by E4
    customer_row(9),
]
PICKED = ["C00000000001", "C00000000003", "C00000000005", "C00000000007", "C00000000009"]


@pytest.fixture(scope="module", params=BACKENDS)
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    dbs = Databases(request.param, tmp_path_factory.mktemp("subsetpeers"))
    engine = build_source(dbs.new("subsetpeers"), customers=CUSTOMERS)
    yield engine
    engine.dispose()
    dbs.drop_all()


def _findings(source: sa.Engine, where: list[Any]) -> set[tuple[str, str]]:
    with source.connect() as conn:
        rows = conn.execute(extraction_query(SUITE, CTX, where=where)).mappings().all()
    return {
        (row[SUITE.key], rule.id)
        for row in rows
        for i, rule in enumerate(SUITE.rules)
        if row[f"{FLAG_PREFIX}{i}"]
    }


def test_picked_records_get_the_whole_tables_verdicts(source: sa.Engine) -> None:
    picked = [source_columns(SUITE.table)[SUITE.key].in_(PICKED)]
    whole = {(key, rule) for key, rule in _findings(source, []) if key in PICKED}
    assert {key for key, rule in whole if rule == UNIQUE} == {"C00000000001", "C00000000003"}
    assert _findings(source, picked) == whole

    gx = validate_with_gx(source, SUITE, CTX, picked)
    assert {o.error for o in gx.outcomes.values()} == {None}
    for rule in SUITE.rules:
        assert gx.outcomes[rule.id].unexpected == sum(1 for _, r in whole if r == rule.id), rule.id


def test_a_record_named_by_key_keeps_its_peers(source: sa.Engine) -> None:
    with source.connect() as conn:
        rows = conn.execute(extraction_query(SUITE, CTX, record_key="C00000000002")).mappings().all()
    flagged = {rule.id for row in rows for i, rule in enumerate(SUITE.rules) if row[f"{FLAG_PREFIX}{i}"]}
    assert UNIQUE in flagged
