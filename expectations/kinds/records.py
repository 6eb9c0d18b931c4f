"""Kinds that look beyond the record: the manager is active staff (G3), a value is unique in scope (E4)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations import checks
from expectations.contract import PRIMARY_KEYS, RECORD_TABLES
from expectations.contract import staff as staff_table
from expectations.derived import active
from expectations.kinds.base import CheckContext, Columns, Kind, Row, first, sql_judged, sql_missing

if TYPE_CHECKING:
    from expectations.rulebook import Rule


def _sql_active_staff(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    """Missing, or not the id of an active member of staff. Under the derived values a row fact (a LEFT JOIN
    on the active staff, after the rules' flags): a `NOT IN (subquery)` in the flags would be a subplan,
    and one with a Gather of its own (a staff table past `min_parallel_table_scan_size`) is not allowed in
    a parallel worker, so every flag would be computed in the leader."""
    col = first(cols, rule)
    derived = active(col)
    if derived is None:
        return sa.or_(sql_missing(col), col.not_in(_active_staff().scalar_subquery()))
    held = derived.row_fact(f"dq_staff_{col.name}", col, lambda where: _active_staff())
    return sa.or_(sql_missing(col), sa.not_(held))


def _active_staff() -> sa.Select[Any]:
    return sa.select(staff_table.c.staff_id).where(staff_table.c.active == sa.true())


def _py_active_staff(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    value = row.get(rule.columns[0])
    if ctx.active_staff is None:
        raise ValueError("the active_staff check needs the list of active staff")
    return not checks.is_given(value) or value not in ctx.active_staff


def _sql_unique(cols: Columns, rule: Rule, ctx: CheckContext) -> ColumnElement[bool]:
    """The value (as judged) is held by another in-scope record of the real table, not just the batch."""
    col = first(cols, rule)
    judged, text = sql_judged(col)
    derived = active(col)
    if derived is None:
        return sa.and_(judged, text.in_(_held_twice(rule)))
    return sa.and_(judged, derived.row_fact(f"dq_u_{col.name}", text, lambda where: _held_twice(rule, where)))


def _held_twice(rule: Rule, where: Sequence[ColumnElement[bool]] = ()) -> sa.Select[Any]:
    """The judged values more than one in-scope record holds. With `where` (conditions on the table's bare
    columns), only the values the records it picks hold: the same answer for those records, found by a
    hash join on the values instead of judging and grouping every record of the table."""
    table = RECORD_TABLES[rule.table]
    peers = table.alias("dq_peer")
    peer_judged, peer_text = sql_judged(peers.c[rule.columns[0]])
    in_scope = rule.scope.sql(peers.c.status)
    if where:
        # Judged is a property of the stripped value: a peer holding a judged value is judged itself.
        picked = table.alias("dq_picked")
        picked_judged, picked_text = sql_judged(picked.c[rule.columns[0]])
        values = sa.select(picked_text).select_from(picked).where(*where, picked_judged)
        peer_judged = peer_text.in_(values)
    held = sa.select(peer_text.label("dq_value")).where(in_scope, peer_judged)
    return held.group_by(peer_text).having(sa.func.count() > 1)


def _py_unique_batch(rows: Sequence[Row], rule: Rule, ctx: CheckContext) -> list[bool]:
    """`rows` are in-scope records (`compiler.python_failures` passes only those); `ctx.peers` adds the rest."""
    column, key = rule.columns[0], PRIMARY_KEYS[rule.table]
    known = (ctx.peers or {}).get((rule.table, column), {})
    texts = [checks.judged_text(row.get(column)) for row in rows]
    keys = [str(row.get(key, f"#{i}")) for i, row in enumerate(rows)]
    holders: dict[str, set[str]] = defaultdict(set)
    for text, record_key in zip(texts, keys, strict=True):
        if text is not None:
            holders[text].add(record_key)
    return [
        text is not None and bool((holders[text] | known.get(text, frozenset())) - {record_key})
        for text, record_key in zip(texts, keys, strict=True)
    ]


def _py_unique(row: Row, rule: Rule, ctx: CheckContext) -> bool:
    return _py_unique_batch([row], rule, ctx)[0]


def load_peers(conn: sa.Connection, rule: Rule) -> dict[str, frozenset[str]]:
    """Who holds each value of the rule's column among the in-scope records: for `CheckContext.peers`."""
    table = RECORD_TABLES[rule.table]
    column, key = table.c[rule.columns[0]], table.c[PRIMARY_KEYS[rule.table]]
    status = table.c.status
    in_scope = rule.scope.sql(status)
    holders: dict[str, set[str]] = defaultdict(set)
    for record_key, value in conn.execute(sa.select(key, column).where(in_scope)):
        text = checks.judged_text(value)
        if text is not None:
            holders[text].add(str(record_key))
    return {text: frozenset(keys) for text, keys in holders.items()}


RECORD_KINDS: Mapping[str, Kind] = {
    "active_staff": Kind("管户人为在岗员工", _sql_active_staff, _py_active_staff),
    "unique_among_in_scope": Kind(
        "在治理范围内（未销户）的记录中唯一",
        _sql_unique,
        _py_unique,
        text_only=True,
        py_fails_batch=_py_unique_batch,
        judges_text=True,
    ),
}
