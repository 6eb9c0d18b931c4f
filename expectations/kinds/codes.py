"""Kinds about codes: USCC, ID numbers, phone numbers, MCC, division codes and settlement accounts.

Each judges the text of its first column (`checks.judged_text`): without leading/trailing blanks, and not
when it is placeholder text, which clause G2's rule on the column reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations import checks, sqlchecks
from expectations.derived import active
from expectations.kinds.base import (
    CheckContext,
    Columns,
    Kind,
    PyFails,
    Row,
    SqlFails,
    first,
    sql_judged,
)
from expectations.kinds.text import judging_kind
from expectations.reference import mcc_codes

if TYPE_CHECKING:
    from expectations.rulebook import Rule

_USCC_SHAPE = re.compile(sqlchecks.USCC_SHAPE)


def _sql_id_number(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = first(cols, rule)
    judged, number = sql_judged(col)
    id_type = cols[rule.params["type_column"]]
    derived = active(col)
    body = derived.id_body_of(col) if derived is not None else None
    return sa.and_(
        judged,
        id_type.in_(checks.ID_TYPES),  # another type is clause P2's finding
        sa.not_(sqlchecks.is_valid_id(id_type, number, ctx.check_date, body)),
    )


def _py_id_number(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    number = checks.judged_text(row.get(rule.columns[0]))
    id_type = row.get(rule.params["type_column"])
    return (
        number is not None
        and id_type in checks.ID_TYPES
        and not checks.is_valid_id(id_type, number, ctx.check_date)
    )


def _sql_settle_account(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    judged, number = sql_judged(first(cols, rule))
    acct_type = cols[rule.params["type_column"]]
    return sa.and_(
        judged,
        acct_type.in_(["corporate", "personal"]),  # another type is clause M4's finding
        sa.not_(sqlchecks.is_valid_settle_account(acct_type, number)),
    )


def _py_settle_account(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    number = checks.judged_text(row.get(rule.columns[0]))
    acct_type = row.get(rule.params["type_column"])
    return (
        number is not None
        and acct_type in ("corporate", "personal")
        and not checks.is_valid_settle_account(acct_type, number)
    )


def _sql_equals_part(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    judged, text = sql_judged(first(cols, rule))
    p = rule.params
    part = sa.func.substr(cols[p["of_column"]], p["start"], p["length"])
    return sa.and_(judged, sa.func.coalesce(part, "") != text)


def _py_equals_part(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    text = checks.judged_text(row.get(rule.columns[0]))
    p = rule.params
    whole = row.get(p["of_column"]) or ""
    return text is not None and whole[p["start"] - 1 : p["start"] - 1 + p["length"]] != text


def _sql_uscc_prefix(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    judged, text = sql_judged(first(cols, rule))
    kind = cols[rule.params["type_column"]]
    prefixes: Mapping[str, list[str]] = rule.params["prefixes"]
    prefix = sa.func.substr(text, 1, 2)
    wrong = sa.case(
        *((kind == k, sa.case((prefix.in_(v), sa.false()), else_=sa.true())) for k, v in prefixes.items()),
        else_=sa.false(),
    )
    # A value that is not shaped like a USCC is clause E2's finding: its positions 1-2 mean nothing yet.
    return sa.and_(judged, sqlchecks.matches(text, sqlchecks.USCC_SHAPE), wrong)


def _py_uscc_prefix(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    text = checks.judged_text(row.get(rule.columns[0]))
    kind = row.get(rule.params["type_column"])
    prefixes: Mapping[str, list[str]] = rule.params["prefixes"]
    codes = prefixes.get(kind) if isinstance(kind, str) else None
    return (
        text is not None and codes is not None and bool(_USCC_SHAPE.fullmatch(text)) and text[:2] not in codes
    )


def _judging(description: str, sql_fails: SqlFails, py_fails: PyFails, **params: type) -> Kind:
    return Kind(description, sql_fails, py_fails, params=params, text_only=True, judges_text=True)


CODE_KINDS: Mapping[str, Kind] = {
    "uscc": judging_kind(
        "统一社会信用代码格式与校验码（GB 32100）",
        lambda text, rule: sqlchecks.is_valid_uscc(text),
        lambda text, rule: checks.is_valid_uscc(text),
    ),
    "uscc_prefix": _judging(
        "统一社会信用代码第1-2位与主体类型相符",
        _sql_uscc_prefix,
        _py_uscc_prefix,
        type_column=str,
        prefixes=dict,
    ),
    "phone": judging_kind(
        "手机号或带区号的固定电话",
        lambda text, rule: sqlchecks.is_valid_phone(text),
        lambda text, rule: checks.is_valid_phone(text),
    ),
    "id_number": _judging("证件号码符合其证件类型", _sql_id_number, _py_id_number, type_column=str),
    "mcc_known": judging_kind(
        "MCC 属于 ISO 18245",
        lambda text, rule: text.in_(sorted(mcc_codes())),
        lambda text, rule: text in mcc_codes(),
    ),
    "equals_part": _judging(
        "与另一字段的指定位置一致",
        _sql_equals_part,
        _py_equals_part,
        of_column=str,
        start=int,
        length=int,
    ),
    "county_code": judging_kind(
        "现行 GB/T 2260 县级行政区划代码",
        lambda text, rule: sqlchecks.is_current_county(text),
        lambda text, rule: checks.is_current_county(text),
    ),
    "settle_acct_no": _judging(
        "结算账号：对公10-25位数字，对私16-19位数字且通过 Luhn 校验",
        _sql_settle_account,
        _py_settle_account,
        type_column=str,
    ),
}
