"""Check kinds: what a rule's `check:` names, compiled two ways.

Each kind gives the *failing* condition of a rule as a SQLAlchemy expression (run in the source
database, by Great Expectations and by the key extractor) and as a Python predicate over one record
(for corrections typed into the portal and for cross-checking the SQL). Both must agree.

Missing values follow the standard: only `required` and `active_staff` fail on a missing value (NULL, or
blank text); every other kind passes it, so a required field pairs a `required` rule with its format
rule and one defect never raises two to-dos.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations import checks, sqlchecks
from expectations.contract import staff as staff_table
from expectations.reference import mcc_codes

if TYPE_CHECKING:
    from expectations.rulebook import Rule

Columns = Mapping[str, ColumnElement[Any]]
Row = Mapping[str, Any]


@dataclass(frozen=True)
class CheckContext:
    check_date: dt.date
    active_staff: frozenset[str] | None = None  # for the Python side of `active_staff`


@dataclass(frozen=True)
class Kind:
    description: str
    sql_fails: Callable[[Columns, Rule, CheckContext], ColumnElement[bool]]
    py_fails: Callable[[Row, Rule, CheckContext], bool]
    params: Mapping[str, type] = field(default_factory=dict)  # required parameter names and types
    text_only: bool = False
    # kinds that compare a record with other records (uniqueness) judge a whole batch at once
    py_fails_batch: Callable[[Sequence[Row], Rule, CheckContext], list[bool]] | None = None

    def python_fails(self, rows: Sequence[Row], rule: Rule, ctx: CheckContext) -> list[bool]:
        if self.py_fails_batch is not None:
            return self.py_fails_batch(rows, rule, ctx)
        return [self.py_fails(row, rule, ctx) for row in rows]

    def validate_params(
        self, params: Mapping[str, Any], columns: Sequence[str], contract: sa.Table
    ) -> str | None:
        for name, typ in self.params.items():
            if not isinstance(params.get(name), typ):
                return f"'{name}' ({typ.__name__}) is required for this check"
        extra = sorted(set(params) - set(self.params))
        if extra:
            return f"unknown parameter(s) {', '.join(extra)}"
        for name, value in params.items():
            if name.endswith("column") and value not in contract.c:
                return f"{name} {value!r} is not a column of {contract.name}"
        if self.text_only:
            for col in columns:
                if not isinstance(contract.c[col].type, sa.String):
                    return f"column {col} is not text"
        return None


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() == "")


def _first(cols: Columns, rule: Rule) -> ColumnElement[Any]:
    return cols[rule.columns[0]]


def _sql_missing(col: ColumnElement[Any]) -> ColumnElement[bool]:
    if isinstance(col.type, sa.String):
        return sa.or_(col.is_(None), sa.func.trim(col) == "")
    return col.is_(None)


def _sql_present(col: ColumnElement[Any]) -> ColumnElement[bool]:
    return sa.not_(_sql_missing(col))


def _sql_required(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    return sa.or_(*(_sql_missing(cols[c]) for c in rule.columns))


def _py_required(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    return not all(_present(row.get(c)) for c in rule.columns)


def _sql_in_set(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = _first(cols, rule)
    return sa.and_(_sql_present(col), col.not_in(list(rule.params["values"])))


def _py_in_set(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = row.get(rule.columns[0])
    return _present(value) and value not in rule.params["values"]


def _format_kind(
    description: str,
    sql_valid: Callable[[ColumnElement[Any]], ColumnElement[bool]],
    py_valid: Callable[[str], bool],
) -> Kind:
    def sql_fails(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
        col = _first(cols, rule)
        return sa.and_(_sql_present(col), sa.not_(sql_valid(col)))

    def py_fails(row: Row, rule: Rule, ctx: CheckContext) -> bool:
        value = row.get(rule.columns[0])
        return _present(value) and not py_valid(str(value))

    return Kind(description, sql_fails, py_fails, text_only=True)


def _sql_date_expired(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = _first(cols, rule)
    return sa.and_(col.is_not(None), col < ctx.check_date)


def _py_date_expired(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = row.get(rule.columns[0])
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value is not None and value < ctx.check_date


def _sql_id_number(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    number = _first(cols, rule)
    id_type = cols[rule.params["type_column"]]
    return sa.and_(_sql_present(number), sa.not_(sqlchecks.is_valid_id(id_type, number, ctx.check_date)))


def _py_id_number(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    number = row.get(rule.columns[0])
    id_type = row.get(rule.params["type_column"]) or ""
    return _present(number) and not checks.is_valid_id(id_type, str(number), ctx.check_date)


def _sql_mcc_known(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = _first(cols, rule)
    return sa.and_(_sql_present(col), col.not_in(sorted(mcc_codes())))


def _py_mcc_known(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = row.get(rule.columns[0])
    return _present(value) and value not in mcc_codes()


def _sql_equals_part(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = _first(cols, rule)
    p = rule.params
    part = sa.func.substr(cols[p["of_column"]], p["start"], p["length"])
    return sa.and_(_sql_present(col), sa.func.coalesce(part, "") != col)


def _py_equals_part(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = row.get(rule.columns[0])
    p = rule.params
    whole = row.get(p["of_column"]) or ""
    return _present(value) and whole[p["start"] - 1 : p["start"] - 1 + p["length"]] != value


def _sql_active_staff(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = _first(cols, rule)
    active = sa.select(staff_table.c.staff_id).where(staff_table.c.active == sa.true())
    return sa.or_(_sql_missing(col), col.not_in(active.scalar_subquery()))


def _py_active_staff(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = row.get(rule.columns[0])
    if ctx.active_staff is None:
        raise ValueError("the active_staff check needs the list of active staff")
    return not _present(value) or value not in ctx.active_staff


KINDS: Mapping[str, Kind] = {
    "required": Kind("值必填，不能为空或空白", _sql_required, _py_required),
    "in_set": Kind("值必须取自规定代码", _sql_in_set, _py_in_set, params={"values": list}),
    "uscc": _format_kind(
        "统一社会信用代码格式与校验码（GB 32100）", sqlchecks.is_valid_uscc, checks.is_valid_uscc
    ),
    "phone": _format_kind("手机号或带区号的固定电话", sqlchecks.is_valid_phone, checks.is_valid_phone),
    "not_expired": Kind("日期不早于检查日", _sql_date_expired, _py_date_expired),
    "id_number": Kind(
        "证件号码符合其证件类型", _sql_id_number, _py_id_number, params={"type_column": str}, text_only=True
    ),
    "mcc_known": Kind("MCC 属于 ISO 18245", _sql_mcc_known, _py_mcc_known, text_only=True),
    "equals_part": Kind(
        "与另一字段的指定位置一致",
        _sql_equals_part,
        _py_equals_part,
        params={"of_column": str, "start": int, "length": int},
        text_only=True,
    ),
    "active_staff": Kind("管户人为在岗员工", _sql_active_staff, _py_active_staff),
}
