"""Values a table's rules share, computed once per row: each text column's stripped value and flags.

Most rules judge a text column without its blanks and only when it is given and not placeholder text
(`kinds.base.sql_judged`). Written inline, every rule re-derives those from the raw column: a merchant
row would strip its values about a thousand times. While `deriving(...)` is active, the kinds refer to
named columns instead (`dq_s_<col>`, `dq_b_<col>`, `dq_p_<col>`, and `dq_i_<col>` for an ID number's
digits as one integer) and `DerivedValues` records which ones the conditions used; `layers` then puts them
into two inner queries under the rules' flags.
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

A row fact cannot be joined in the workers: its values are grouped under a Gather of their own, and a
plan that joins them below the top Gather leaves every flag to the leader. So the extractor's query
(`failing_rows`) computes a condition that depends on a fact twice in the workers, taking the fact as held
and as not held, and joins the fact's values after the flags, in the leader, to pick one of the two.
Great Expectations' query (`layers` with `facts=True`) still joins them inside the layers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnClause, ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from expectations import sqlchecks

STRIPPED, BLANK, PLACEHOLDER, ID_BODY = "dq_s_", "dq_b_", "dq_p_", "dq_i_"

# Builds the one-column select of the values a row's value is looked up in, from the conditions that pick
# the rows (none: every row of the table).
ValuesBuilder = Callable[[Sequence[ColumnElement[bool]]], sa.Select[Any]]
FENCE, FOUND = "dq_fence_", "dq_found_"
# the columns `failing_rows` computes a fact-dependent condition in: held, not held, and the looked-up value
HELD, NOT_HELD, VALUE = "dq_held_", "dq_unheld_", "dq_value_"


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
        self.id_bodies: dict[str, None] = {}
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

    def id_body_of(self, col: ColumnElement[Any]) -> ColumnElement[int]:
        """`sqlchecks.id_body` of the column's stripped value, computed once per row with the flags."""
        name = str(col.name)
        self.stripped.setdefault(name, None)
        self.id_bodies.setdefault(name, None)
        return sa.column(ID_BODY + name, sa.BigInteger)

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

    def layers(self, table: str, *where: ColumnElement[bool], facts: bool = True) -> sa.Subquery:
        """The table's rows (those matching `where`: it must go in here, since no outer condition gets
        through the fences) with every source column, then the stripped values, then the flags and, with
        `facts`, the row facts (`row_fact`; `failing_rows` joins them after the rules' flags instead)."""
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
        flags += [sqlchecks.id_body(inner.c[STRIPPED + n]).label(ID_BODY + n) for n in self.id_bodies]
        joined: sa.FromClause = inner
        for name in self.facts if facts else ():
            found = self._found(name, where)
            joined = joined.outerjoin(found.table, self.facts[name][0] == found)
            flags.append(sa.case((found.is_not(None), sa.true()), else_=sa.false()).label(name))
        return walled(sa.select(inner, *flags).select_from(joined), "d").subquery("dq_derived")

    def _found(self, name: str, where: Sequence[ColumnElement[bool]]) -> ColumnElement[Any]:
        """The one column of the values the fact `name` looks a row's value up in."""
        (found,) = self.facts[name][1](where).subquery(FOUND + name).c
        return found

    def failing_rows(
        self,
        table: str,
        where: Sequence[ColumnElement[bool]],
        picked: Sequence[ColumnElement[Any]],
        conditions: Mapping[str, ColumnElement[bool]],
    ) -> sa.Select[Any]:
        """The `picked` columns and a 0/1 flag per condition (named by its key) of the rows (those matching
        `where`) that meet at least one condition. The conditions must have been compiled under
        `deriving(self)`.

        Every flag is computed in the same inner query, which PostgreSQL's parallel workers evaluate. A row
        fact cannot be computed there: its values are grouped under a Gather of their own, which no worker
        may run. So a condition that depends on a fact is computed twice in there, taking the fact as held
        and as not held, and the outer query joins the fact's values and picks one of the two: the join and
        that choice are all that is left to the leader (docs/decisions.md)."""
        inner: list[ColumnElement[Any]] = []
        depends: dict[str, str] = {}
        for label, condition in conditions.items():
            used = self._facts_in(condition)
            if not used:
                inner.append(_flag(condition).label(label))
                continue
            if len(used) > 1:
                raise ValueError(f"{label}: a condition may depend on one row fact, not {sorted(used)}")
            (name,) = used
            depends[label] = name
            inner += [
                _flag(_assuming(condition, name, True)).label(HELD + label),
                _flag(_assuming(condition, name, False)).label(NOT_HELD + label),
            ]
        needed = dict.fromkeys(depends.values())
        values = [self.facts[name][0].label(VALUE + name) for name in needed]
        rows = sa.select(*picked, *inner, *values).select_from(self.layers(table, *where, facts=False))
        flagged = walled(rows, "f").subquery("dq_flagged")
        # The rows that fail under some value of their facts: filtered in the workers, so only those cross
        # the Gather to the leader (a tenth or so), which joins the facts and filters again.
        may_fail = _unpushed(sa.or_(*(flagged.c[c.name] == 1 for c in inner)), flagged.c[FENCE + "f"])
        joined: sa.FromClause = flagged
        found: dict[str, ColumnElement[Any]] = {}
        for name in needed:
            found[name] = self._found(name, where)
            joined = joined.outerjoin(found[name].table, flagged.c[VALUE + name] == found[name])
        flags: dict[str, ColumnElement[int]] = {}
        for label in conditions:
            fact = depends.get(label)
            flags[label] = (
                flagged.c[label]
                if fact is None
                else sa.case(
                    (found[fact].is_not(None), flagged.c[HELD + label]), else_=flagged.c[NOT_HELD + label]
                )
            )
        return (
            sa.select(*(flagged.c[str(col.name)] for col in picked), *(f.label(k) for k, f in flags.items()))
            .select_from(joined)
            .where(may_fail, *([sa.or_(*(f == 1 for f in flags.values()))] if needed else []))
        )

    def _facts_in(self, condition: ColumnElement[bool]) -> set[str]:
        return {
            str(e.name)
            for e in visitors.iterate(condition)
            if isinstance(e, ColumnClause) and e.table is None and e.name in self.facts
        }


class _Unpushed(FunctionElement[bool]):
    """condition, the volatile column of the walled subquery it filters."""

    type = sa.Boolean()
    inherit_cache = True


def _unpushed(condition: ColumnElement[bool], fence: ColumnElement[Any]) -> ColumnElement[bool]:
    """`condition` on the columns of a walled subquery, kept out of it. PostgreSQL pushes a condition on
    a subquery's columns down into it, where it re-computes the expressions behind them (the rules'
    flags); one that also names a volatile column stays a filter over the subquery's rows, still in the
    parallel workers. `OR fence IS NULL` names it and changes nothing (`clock_timestamp()` is never
    NULL). SQLite keeps its `LIMIT` subqueries whole anyway, and its fence is NULL."""
    return _Unpushed(condition, fence)


@compiles(_Unpushed)
def _just_condition(element: _Unpushed, compiler: SQLCompiler, **kw: Any) -> str:
    condition, _ = element.clauses
    return compiler.process(condition.self_group(), **kw)


@compiles(_Unpushed, "postgresql")
def _or_fence_null(element: _Unpushed, compiler: SQLCompiler, **kw: Any) -> str:
    condition, fence = element.clauses
    return compiler.process(sa.or_(condition, fence.is_(None)).self_group(), **kw)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def _assuming(condition: ColumnElement[bool], name: str, held: bool) -> ColumnElement[bool]:
    """The condition with the row fact `name` replaced by a constant (which the planner folds away)."""

    def replace(element: Any, **kw: Any) -> Any:
        if isinstance(element, ColumnClause) and element.table is None and element.name == name:
            return sa.true() if held else sa.false()
        return None

    replaced: ColumnElement[bool] = visitors.replacement_traverse(condition, {}, replace)
    return replaced


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
