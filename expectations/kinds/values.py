"""Kinds about dates and amounts: expiry, date ranges, positive amounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations.kinds.base import CheckContext, Columns, Kind, Row, as_date, as_number, first

if TYPE_CHECKING:
    from expectations.rulebook import Rule


def _sql_date_expired(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = first(cols, rule)
    return sa.and_(col.is_not(None), col < ctx.check_date)


def _py_date_expired(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = as_date(row.get(rule.columns[0]))
    return value is not None and value < ctx.check_date


def _sql_date_range(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = first(cols, rule)
    return sa.and_(col.is_not(None), sa.or_(col < rule.params["earliest"], col > ctx.check_date))


def _py_date_range(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = as_date(row.get(rule.columns[0]))
    return value is not None and not rule.params["earliest"] <= value <= ctx.check_date


def _sql_positive(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    col = first(cols, rule)
    return sa.and_(col.is_not(None), col <= 0)


def _py_positive(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = as_number(row.get(rule.columns[0]))
    return value is not None and value <= 0


VALUE_KINDS: Mapping[str, Kind] = {
    "not_expired": Kind("日期不早于检查日", _sql_date_expired, _py_date_expired),
    "date_range": Kind(
        "日期不晚于检查日，且不早于规定的最早日期",
        _sql_date_range,
        _py_date_range,
        params={"earliest": dt.date},
    ),
    "positive": Kind("数值大于0", _sql_positive, _py_positive),
}
