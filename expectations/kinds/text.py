"""Kinds about presence and text: required, code lists, clause G2's text quality, names and addresses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations import checks, sqlchecks
from expectations.kinds.base import (
    CheckContext,
    Columns,
    Kind,
    Row,
    first,
    sql_given,
    sql_judged,
    sql_missing,
    sql_text_defect,
)

if TYPE_CHECKING:
    from expectations.rulebook import Rule


def _sql_required(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    return sa.or_(*(sql_missing(cols[c]) for c in rule.columns))


def _py_required(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    return not all(checks.is_given(row.get(c)) for c in rule.columns)


def _sql_all_or_none(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    given = [sql_given(cols[c]) for c in rule.columns]
    return sa.and_(sa.or_(*given), sa.not_(sa.and_(*given)))


def _py_all_or_none(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    given = [checks.is_given(row.get(c)) for c in rule.columns]
    return any(given) and not all(given)


# Code lists compare the value as stored: a padded code is not one of the codes, and is reported once, here.


def _sql_in_set(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = first(cols, rule)
    return sa.and_(sql_given(col), col.not_in(list(rule.params["values"])))


def _py_in_set(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = row.get(rule.columns[0])
    return checks.is_given(value) and value not in rule.params["values"]


def _sql_allowed_for_type(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col, kind = first(cols, rule), cols[rule.params["type_column"]]
    allowed: Mapping[str, list[str]] = rule.params["allowed"]
    not_allowed = sa.case(
        *((kind == k, sa.case((col.in_(v), sa.false()), else_=sa.true())) for k, v in allowed.items()),
        else_=sa.false(),  # an unknown type is the type rule's finding
    )
    return sa.and_(sql_given(col), not_allowed)


def _py_allowed_for_type(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value, kind = row.get(rule.columns[0]), row.get(rule.params["type_column"])
    allowed: Mapping[str, list[str]] = rule.params["allowed"]
    codes = allowed.get(kind) if isinstance(kind, str) else None
    return checks.is_given(value) and codes is not None and value not in codes


def _sql_text_quality(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = first(cols, rule)
    return sa.and_(sql_given(col), sql_text_defect(col))


def _py_text_quality(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = row.get(rule.columns[0])
    return checks.is_given(value) and checks.is_text_defect(str(value))


def judging_kind(
    description: str,
    sql_valid: Callable[[ColumnElement[str], Rule], ColumnElement[bool]],
    py_valid: Callable[[str, Rule], bool],
    **options: Any,
) -> Kind:
    """A kind that judges the text of its first column (see `checks.judged_text`), given `sql_valid`."""

    def sql_fails(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
        judged, text = sql_judged(first(cols, rule))
        return sa.and_(judged, sa.not_(sql_valid(text, rule)))

    def py_fails(row: Row, rule: Rule, ctx: CheckContext) -> bool:
        text = checks.judged_text(row.get(rule.columns[0]))
        return text is not None and not py_valid(text, rule)

    return Kind(description, sql_fails, py_fails, text_only=True, judges_text=True, **options)


def _sql_equals_column(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    judged, text = sql_judged(first(cols, rule))
    other_judged, other = sql_judged(cols[rule.params["other_column"]])
    return sa.and_(judged, other_judged, text != other)


def _py_equals_column(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    text = checks.judged_text(row.get(rule.columns[0]))
    other = checks.judged_text(row.get(rule.params["other_column"]))
    return text is not None and other is not None and text != other


TEXT_KINDS: Mapping[str, Kind] = {
    "required": Kind("值必填，不能为空或空白", _sql_required, _py_required),
    "all_or_none": Kind("这组字段要么都填，要么都不填", _sql_all_or_none, _py_all_or_none),
    "in_set": Kind("值必须取自规定代码", _sql_in_set, _py_in_set, params={"values": list}),
    "allowed_for_type": Kind(
        "值必须是该类型允许的代码",
        _sql_allowed_for_type,
        _py_allowed_for_type,
        params={"type_column": str, "allowed": dict},
    ),
    "text_quality": Kind(
        "文本不得有首尾空白，不得为占位符、单一重复字符，不得含全角字母数字、控制字符、零宽字符或表情符号",
        _sql_text_quality,
        _py_text_quality,
        text_only=True,
    ),
    "min_length": judging_kind(
        "去掉首尾空白后不少于规定字数",
        lambda text, rule: sa.func.length(text) >= rule.params["min"],
        lambda text, rule: len(text) >= rule.params["min"],
        params={"min": int},
    ),
    "person_name": judging_kind(
        "姓名为2至30个汉字、拉丁字母、空格或“·”",
        lambda text, rule: sqlchecks.is_person_name(text),
        lambda text, rule: checks.is_person_name(text),
    ),
    "province_address": judging_kind(
        "地址以省级行政区全称开头",
        lambda text, rule: sqlchecks.starts_with_province(text),
        lambda text, rule: checks.starts_with_province(text),
    ),
    "equals_column": Kind(
        "与另一字段一致（去掉首尾空白后比较）",
        _sql_equals_column,
        _py_equals_column,
        params={"other_column": str},
        text_only=True,
        judges_text=True,
    ),
}
