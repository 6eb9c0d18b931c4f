"""Values a table's rules share, computed once per row: each text column's stripped value and flags.

Most rules judge a text column without its blanks and only when it is given and not placeholder text
(`kinds.base.sql_judged`). Written inline, every rule re-derives those from the raw column: a merchant
row would strip its values about a thousand times. While `deriving(...)` is active, the kinds refer to
named columns instead (`dq_s_<col>`, `dq_b_<col>`, `dq_p_<col>`) and `DerivedValues` records which ones
the conditions used; `layers` then puts them into two inner queries under the rules' flags.
A condition that depends on other records (`row_fact`: a value held twice) is computed there too, once per
row, from the rows `layers` is given: an incremental run's few records compare with the table's records
holding their values only, instead of grouping the whole table. It is a LEFT JOIN on those values, not
`value IN (subquery)` in the row's flags: past a hash table's room in `work_mem` (about 200,000 values at
5M records) PostgreSQL runs such an IN as a plain subplan that re-reads every value for every row, which
is quadratic, while a hash join splits into batches on disk and stays linear.

Both PostgreSQL and SQLite would fold a plain subquery into the query around it, substituting the
expression for every reference and undoing the saving, so each inner query is walled off (`walled`):
- on PostgreSQL by a volatile column, `clock_timestamp()` (the planner never folds a subquery whose
  output holds a volatile function, prepjointree.c, `is_simple_subquery`). Unlike a `LIMIT`, it leaves the
  layers parallel-safe: parallel workers scan *and* evaluate, under one Gather at the top;
- on SQLite by `LIMIT -1 OFFSET 0`.
Written as literals: the query also runs as a GX query asset, whose text takes no parameters.

A table with a uniqueness rule (`row_fact`) is still evaluated by one backend: PostgreSQL 15 groups the
values held twice in parallel workers, under a Gather of its own, and then reads the rows, joins them to
those values and computes every flag in the leader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from expectations import sqlchecks

STRIPPED, BLANK, PLACEHOLDER = "dq_s_", "dq_b_", "dq_p_"

# Builds the one-column select of the values a row's value is looked up in, from the conditions that pick
# the rows (none: every row of the table).
ValuesBuilder = Callable[[Sequence[ColumnElement[bool]]], sa.Select[Any]]
FENCE, FOUND = "dq_fence_", "dq_found_"


class _NoLimit(ColumnElement[int]):
    inherit_cache = True


@compiles(_NoLimit)
def _all(element: _NoLimit, compiler: SQLCompiler, **kw: Any) -> str:
    return "ALL"


@compiles(_NoLimit, "sqlite")
def _minus_one(element: _NoLimit, compiler: SQLCompiler, **kw: Any) -> str:
    return "-1"


def fenced(select: sa.Select[Any]) -> sa.Select[Any]:
    """The select with `LIMIT ALL OFFSET 0`: the same rows, but never folded into an outer query."""
    return select.limit(_NoLimit()).offset(sa.literal_column("0", sa.Integer))


class _Volatile(ColumnElement[Any]):
    inherit_cache = True
    type = sa.types.NullType()


@compiles(_Volatile)
def _nothing(element: _Volatile, compiler: SQLCompiler, **kw: Any) -> str:
    return "NULL"


@compiles(_Volatile, "postgresql")
def _clock(element: _Volatile, compiler: SQLCompiler, **kw: Any) -> str:
    return "clock_timestamp()"


def walled(select: sa.Select[Any], name: str) -> sa.Select[Any]:
    """The select, never folded into an outer query, and still parallel-safe on PostgreSQL: a volatile
    column `FENCE + name` there, `LIMIT -1 OFFSET 0` on SQLite (module docstring)."""
    return select.add_columns(_Volatile().label(FENCE + name)).suffix_with(
        "LIMIT -1 OFFSET 0", dialect="sqlite"
    )


class DerivedValues:
    """The derived columns of one table that the conditions compiled under `deriving` refer to."""

    def __init__(self, columns: dict[str, ColumnElement[Any]]) -> None:
        self.source = columns
        self.columns = {name: col for name, col in columns.items() if isinstance(col.type, sa.String)}
        self.stripped: dict[str, None] = {}
        self.flagged: dict[str, None] = {}
        self.facts: dict[str, tuple[ColumnElement[Any], ValuesBuilder]] = {}

    def owns(self, col: ColumnElement[Any]) -> bool:
        """A bare (unqualified) text column of the table: one a subquery of its own does not hold."""
        return isinstance(col, ColumnClause) and col.table is None and col.name in self.columns

    def stripped_of(self, col: ColumnElement[Any]) -> ColumnElement[str]:
        name = str(col.name)
        self.stripped.setdefault(name, None)
        return sa.column(STRIPPED + name, sa.String)

    def blank_of(self, col: ColumnElement[Any]) -> ColumnElement[bool]:
        return self._flag(col, BLANK)

    def placeholder_of(self, col: ColumnElement[Any]) -> ColumnElement[bool]:
        return self._flag(col, PLACEHOLDER)

    def _flag(self, col: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
        name = str(col.name)
        self.stripped.setdefault(name, None)
        self.flagged.setdefault(name, None)
        return sa.column(prefix + name, sa.Boolean) == sa.true()

    def row_fact(self, name: str, value: ColumnElement[Any], among: ValuesBuilder) -> ColumnElement[bool]:
        """Whether the row's `value` is one of the values `among` selects, computed once per row in
        `layers`'s outer query (a LEFT JOIN on those values), which builds them from its `where`. `value`
        may be a stripped value (`stripped_of`); the values must be distinct and never NULL."""
        self.facts.setdefault(name, (value, among))
        return sa.column(name, sa.Boolean) == sa.true()

    def layers(self, table: str, *where: ColumnElement[bool]) -> sa.Subquery:
        """The table's rows (those matching `where`: it must go in here, since no outer condition gets
        through the fences) with every source column, then the stripped values, then the flags."""
        cols: list[ColumnElement[Any]] = [sa.column(name) for name in self.source]
        stripped = [sqlchecks.strip_blanks(self.columns[n]).label(STRIPPED + n) for n in self.stripped]
        rows = sa.select(*cols, *stripped).select_from(sa.table(table)).where(*where)
        inner = walled(rows, "s").subquery("dq_stripped")
        flags: list[ColumnElement[Any]] = []
        for name in self.flagged:
            raw, core = inner.c[name], inner.c[STRIPPED + name]
            blank = sa.case((sa.or_(raw.is_(None), core == ""), sa.true()), else_=sa.false())
            flags += [
                blank.label(BLANK + name),
                sqlchecks.is_placeholder_core(core).label(PLACEHOLDER + name),
            ]
        joined: sa.FromClause = inner
        for name, (value, among) in self.facts.items():
            values = among(where).subquery(FOUND + name)
            (found,) = values.c
            joined = joined.outerjoin(values, value == found)
            flags.append(sa.case((found.is_not(None), sa.true()), else_=sa.false()).label(name))
        return walled(sa.select(inner, *flags).select_from(joined), "d").subquery("dq_derived")


_active: ContextVar[DerivedValues | None] = ContextVar("dq_derived_values", default=None)


def active(col: ColumnElement[Any]) -> DerivedValues | None:
    """The derivation in force if it owns `col`, else None (compile the expression inline)."""
    derived = _active.get()
    return derived if derived is not None and derived.owns(col) else None


@contextmanager
def deriving(derived: DerivedValues) -> Iterator[DerivedValues]:
    token = _active.set(derived)
    try:
        yield derived
    finally:
        _active.reset(token)
