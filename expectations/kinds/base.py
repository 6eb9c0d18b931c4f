"""What every check kind is made of: the `Kind` record, the `CheckContext`, and how values are judged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations import checks, sqlchecks
from expectations.derived import active

if TYPE_CHECKING:
    from expectations.rulebook import Rule

Columns = Mapping[str, ColumnElement[Any]]
Row = Mapping[str, Any]
# (table, column) -> value -> keys of the in-scope records holding it
Peers = Mapping[tuple[str, str], Mapping[str, frozenset[str]]]


@dataclass(frozen=True)
class CheckContext:
    check_date: dt.date
    active_staff: frozenset[str] | None = None  # for the Python side of `active_staff`
    # For the Python side of `unique_among_in_scope` when it judges fewer records than the whole table
    # (a correction typed into the portal): who else holds each value. Without it, a batch is compared
    # only with itself, which is exact when the batch is the table's in-scope records.
    peers: Peers | None = field(default=None, hash=False)


SqlFails = Callable[[Columns, "Rule", CheckContext], ColumnElement[bool]]
PyFails = Callable[[Row, "Rule", CheckContext], bool]


@dataclass(frozen=True)
class Kind:
    description: str
    sql_fails: SqlFails
    py_fails: PyFails
    params: Mapping[str, type] = field(default_factory=dict)  # required parameter names and types
    text_only: bool = False
    # kinds that compare a record with other records (uniqueness) judge a whole batch at once
    py_fails_batch: Callable[[Sequence[Row], Rule, CheckContext], list[bool]] | None = None
    optional_params: Mapping[str, type] = field(default_factory=dict)
    # The kind judges its first column (and `other_column`) as text: it passes placeholder text, which
    # clause G2's rule on that column reports, so every such column needs a `text_quality` rule.
    judges_text: bool = False

    def python_fails(self, rows: Sequence[Row], rule: Rule, ctx: CheckContext) -> list[bool]:
        if self.py_fails_batch is not None:
            return self.py_fails_batch(rows, rule, ctx)
        return [self.py_fails(row, rule, ctx) for row in rows]

    def judged_columns(self, rule: Rule) -> tuple[str, ...]:
        if not self.judges_text:
            return ()
        other = rule.params.get("other_column")
        return (rule.columns[0], *([other] if isinstance(other, str) else []))

    def validate_params(
        self, params: Mapping[str, Any], columns: Sequence[str], contract: sa.Table
    ) -> str | None:
        for name, typ in self.params.items():
            if not isinstance(params.get(name), typ):
                return f"'{name}' ({typ.__name__}) is required for this check"
        for name, typ in self.optional_params.items():
            if name in params and not isinstance(params[name], typ):
                return f"'{name}' must be a {typ.__name__}"
        extra = sorted(set(params) - set(self.params) - set(self.optional_params))
        if extra:
            return f"unknown parameter(s) {', '.join(extra)}"
        for name, value in params.items():
            if name.endswith("column") and value not in contract.c:
                return f"{name} {value!r} is not a column of {contract.name}"
            problem = _check_strings(name, value)
            if problem:
                return problem
        if self.text_only:
            for col in columns:
                if not isinstance(contract.c[col].type, sa.String):
                    return f"column {col} is not text"
        return None


def _check_strings(name: str, value: Any) -> str | None:
    """Code lists must hold strings: YAML reads an unquoted 01 as the number 1."""
    lists = list(value.values()) if isinstance(value, dict) else [value]
    for items in lists:
        if isinstance(value, dict) and not isinstance(items, list):
            return f"'{name}' must map each value to a list"
        if isinstance(items, list) and not all(isinstance(i, str) for i in items):
            return f"'{name}' must list strings (quote codes such as '01')"
    return None


# --- values -----------------------------------------------------------------------------------------------


def first(cols: Columns, rule: Rule) -> ColumnElement[Any]:
    return cols[rule.columns[0]]


def sql_missing(col: ColumnElement[Any]) -> ColumnElement[bool]:
    if isinstance(col.type, sa.String):
        derived = active(col)
        return sqlchecks.is_blank(col) if derived is None else derived.blank_of(col)
    return col.is_(None)


def sql_given(col: ColumnElement[Any]) -> ColumnElement[bool]:
    return sa.not_(sql_missing(col))


def sql_judged(col: ColumnElement[Any]) -> tuple[ColumnElement[bool], ColumnElement[str]]:
    """(whether a text check judges the value, the value it judges): see `checks.judged_text`."""
    derived = active(col)
    if derived is not None:
        judged = sa.and_(sa.not_(derived.blank_of(col)), sa.not_(derived.placeholder_of(col)))
        return judged, derived.stripped_of(col)
    return (
        sa.and_(sql_given(col), sa.not_(sqlchecks.is_placeholder_text(col))),
        sqlchecks.strip_blanks(col),
    )


def sql_text_defect(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """Clause G2 (`sqlchecks.is_text_defect`): leading/trailing blanks or placeholder text."""
    derived = active(col)
    if derived is None:
        return sqlchecks.is_text_defect(col)
    padded = sa.and_(col.is_not(None), col != derived.stripped_of(col))
    return sa.or_(padded, derived.placeholder_of(col))


def as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    assert isinstance(value, dt.date), value
    return value


def as_number(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value).strip(checks.BLANKS))
