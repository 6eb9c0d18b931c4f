"""Compile rules into SQL: the failing condition of each rule, in scope (clause G1) and under its `when`.

The same condition feeds two consumers, so they cannot disagree:
- the rule's Great Expectations expectation (`expectations.gx.expectations`), which counts failing records;
- the key extractor, which evaluates every rule of a table in **one scan** and streams the failing keys.
`python_failures` gives the same answers in Python (GX on pandas, corrections typed into the portal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations.contract import CREATED_COLUMNS, RECORD_TABLES
from expectations.derived import DerivedValues, deriving
from expectations.kinds import KINDS, CheckContext
from expectations.rulebook import Rule, Suite

ROUTING_COLUMNS = ("inst_code", "mgr_staff_id")
FLAG_PREFIX = "dq_fails_"


def source_columns(table: str) -> dict[str, ColumnElement[Any]]:
    """Unqualified, typed columns: they render as bare names, so they work against `{batch}` too."""
    return {c.name: sa.column(c.name, c.type) for c in RECORD_TABLES[table].c}


def in_scope(suite: Suite, cols: dict[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    status = cols["status"]
    return suite.scope.sql(status)


def failing_condition(suite: Suite, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    cols = source_columns(suite.table)
    applies = [cols[col].in_(list(values)) for col, values in rule.when.items()]
    return sa.and_(in_scope(suite, cols), *applies, KINDS[rule.kind].sql_fails(cols, rule, ctx))


def value_columns(suite: Suite) -> list[str]:
    """Every column some rule is about, in first-mention order."""
    seen: dict[str, None] = {}
    for rule in suite.rules:
        for col in rule.columns:
            seen.setdefault(col, None)
    return list(seen)


def extraction_query(
    suite: Suite,
    ctx: CheckContext,
    record_key: str | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> sa.Select[Any]:
    """One scan of the table: the key, routing columns, the rules' columns and a 0/1 flag per rule.
    With `record_key`, only that record's row is read; `where` restricts the rows read further (conditions
    on the bare columns of `source_columns`, e.g. a key range of a partitioned run).

    The values rules share (stripped text and its blank/placeholder flags) are computed once per row in
    inner queries (`expectations.derived`); each rule's flag is computed once, and the rows are filtered
    on the flags, so no condition is written twice.
    """
    cols = source_columns(suite.table)
    only = [*where] if record_key is None else [cols[suite.key] == record_key, *where]
    derived = DerivedValues(cols)
    with deriving(derived):
        conditions = {
            f"{FLAG_PREFIX}{i}": failing_condition(suite, rule, ctx) for i, rule in enumerate(suite.rules)
        }
    return derived.failing_rows(suite.table, only, [cols[c] for c in _picked(suite)], conditions)


def gx_batch_query(
    suite: Suite, ctx: CheckContext, where: Sequence[ColumnElement[bool]] = ()
) -> sa.Select[Any]:
    """The table's rows (those matching `where`) with the values its rules share (`expectations.derived`):
    the batch Great Expectations validates when its expectations are made with `derived=True`."""
    derived = DerivedValues(source_columns(suite.table))
    with deriving(derived):
        for rule in suite.rules:
            failing_condition(suite, rule, ctx)
    return sa.select(derived.layers(suite.table, *where))


def plain_extraction_query(suite: Suite, ctx: CheckContext) -> sa.Select[Any]:
    """The same rows and flags as `extraction_query`, every condition written out in full and twice (the
    form before the derived values): kept as the reference the differential test compares against."""
    cols = source_columns(suite.table)
    conditions = [failing_condition(suite, rule, ctx) for rule in suite.rules]
    flags = [sa.case((cond, 1), else_=0).label(f"{FLAG_PREFIX}{i}") for i, cond in enumerate(conditions)]
    return (
        sa.select(*(cols[c] for c in _picked(suite)), *flags)
        .select_from(sa.table(suite.table))
        .where(sa.or_(*conditions))
    )


def _picked(suite: Suite) -> list[str]:
    picked = [suite.key, *ROUTING_COLUMNS, CREATED_COLUMNS[suite.table], *value_columns(suite)]
    return list(dict.fromkeys(picked))


def python_failures(suite: Suite, rows: Sequence[Mapping[str, Any]], ctx: CheckContext) -> list[set[str]]:
    """The rule ids each row fails, computed in Python: the same answers as the SQL, row for row."""
    failed: list[set[str]] = [set() for _ in rows]
    in_scope = [suite.scope.includes(row.get("status")) for row in rows]
    for rule in suite.rules:
        applies = [
            ok and all(row.get(col) in values for col, values in rule.when.items())
            for ok, row in zip(in_scope, rows, strict=True)
        ]
        candidates = [row for row, ok in zip(rows, applies, strict=True) if ok]
        verdicts = iter(KINDS[rule.kind].python_fails(candidates, rule, ctx))
        for i, ok in enumerate(applies):
            if ok and next(verdicts):
                failed[i].add(rule.id)
    return failed
