"""Read-only queries behind the portal's to-do pages: lists with filters, paging and sorting, counts, the
record page's to-do, its history and corrections.

Every query takes a `TodoScope`: who may see which to-dos is decided once (portal/scoping.py) and applied
here as a WHERE clause, so no page can forget it. A to-do outside the scope is simply not found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from remediation.store.models import ACTIVE_STATUSES, Institution, RuleRecord, Staff, Todo, TodoEvent
from remediation.store.workflow_models import Correction

T = TypeVar("T")
PER_PAGE = 50
MAX_PER_PAGE = 200
DUE_SOON_DAYS = 7
SORTS = ("due", "-due", "first_seen", "-first_seen", "rule")
STATUS_GROUPS = {"active": ACTIVE_STATUSES, "closed": ("fixed", "exempted", "out_of_scope", "gone", "void")}


@dataclass(frozen=True)
class TodoScope:
    """The to-dos a person may see: those assigned to them, those of a set of institutions, or all."""

    assignee: str | None = None
    institutions: frozenset[str] | None = None
    everything: bool = False

    def clause(self) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = []
        if self.assignee is not None:
            conditions.append(Todo.assignee_staff_id == self.assignee)
        if self.institutions is not None:
            conditions.append(Todo.inst_code.in_(sorted(self.institutions)))
        if not conditions:
            return sa.true() if self.everything else sa.false()
        return sa.and_(*conditions)

    def covers_institution(self, inst_code: str | None) -> bool:
        if self.assignee is not None:
            return False
        return self.everything or (self.institutions is not None and inst_code in self.institutions)


@dataclass(frozen=True)
class TodoFilters:
    status: str = "active"  # active | closed | all | one TodoStatus
    rule_id: str | None = None
    severity: str | None = None
    card: str | None = None  # none | yellow | red
    due: str | None = None  # overdue | soon | later | none
    table_name: str | None = None
    institutions: frozenset[str] | None = None  # drill-down: a subtree inside the scope
    assignee: str | None = None
    record_key: str | None = None  # prefix
    record_keys: frozenset[str] | None = None  # one of these (a search by name)
    sort: str = "due"
    page: int = 1
    per_page: int = PER_PAGE

    def without(self, *names: str) -> TodoFilters:
        blank: dict[str, Any] = {n: ("all" if n == "status" else None) for n in names}
        return replace(self, **blank)


def _status_clause(status: str) -> ColumnElement[bool]:
    if status == "all":
        return sa.true()
    return Todo.status.in_(STATUS_GROUPS.get(status, (status,)))


def _filter_clause(f: TodoFilters, today: dt.date) -> ColumnElement[bool]:
    conditions = [_status_clause(f.status)]
    if f.rule_id:
        conditions.append(Todo.rule_id == f.rule_id)
    if f.severity:
        conditions.append(Todo.severity == f.severity)
    if f.card:
        conditions.append(Todo.card == f.card)
    if f.table_name:
        conditions.append(Todo.table_name == f.table_name)
    if f.institutions is not None:
        conditions.append(Todo.inst_code.in_(sorted(f.institutions)))
    if f.assignee:
        conditions.append(Todo.assignee_staff_id == f.assignee)
    if f.record_keys is not None:
        conditions.append(Todo.record_key.in_(sorted(f.record_keys)))
    if f.record_key:
        escaped = f.record_key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Todo.record_key.like(escaped + "%", escape="\\"))
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    due = {
        "overdue": Todo.due_date < today,
        "soon": sa.and_(Todo.due_date >= today, Todo.due_date <= soon),
        "later": Todo.due_date > soon,
        "none": Todo.due_date.is_(None),
    }.get(f.due or "")
    if due is not None:
        conditions.append(due)
    return sa.and_(*conditions)


def _order(sort: str) -> list[Any]:
    nulls_last = sa.case((Todo.due_date.is_(None), 1), else_=0)
    orders: dict[str, list[Any]] = {
        "due": [nulls_last, Todo.due_date, Todo.id],
        "-due": [nulls_last, Todo.due_date.desc(), Todo.id],
        "first_seen": [Todo.first_seen, Todo.id],
        "-first_seen": [Todo.first_seen.desc(), Todo.id],
        "rule": [Todo.rule_id, Todo.record_key],
    }
    return orders.get(sort, orders["due"])


@dataclass(frozen=True)
class TodoRow:
    id: int
    rule_id: str
    table_name: str
    record_key: str
    status: str
    severity: str
    clause: str
    columns: str
    masked_value: str | None
    first_seen: dt.date
    due_date: dt.date | None
    card: str
    inst_code: str | None
    inst_name: str | None
    assignee_staff_id: str | None
    assignee_name: str | None
    routed_to_head: bool
    description: str | None
    assigned_by: str | None = None  # 转派: the head who handed it over


@dataclass(frozen=True)
class TodoPage:
    items: list[TodoRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


_assignee = aliased(Staff, name="assignee")
_ROW_COLUMNS: tuple[Any, ...] = (
    Todo.id,
    Todo.rule_id,
    Todo.table_name,
    Todo.record_key,
    Todo.status,
    Todo.severity,
    Todo.clause,
    Todo.columns,
    Todo.masked_value,
    Todo.first_seen,
    Todo.due_date,
    Todo.card,
    Todo.inst_code,
    Institution.inst_name,
    Todo.assignee_staff_id,
    _assignee.staff_name.label("assignee_name"),
    Todo.routed_to_head,
    RuleRecord.description,
    Todo.assigned_by,
)


def as_dataclass(cls: type[T], row: Any) -> T:
    """A dataclass from a result row, field by field by name."""
    values = row._mapping
    return cls(**{f.name: values[f.name] for f in fields(cls)})  # type: ignore[arg-type]


def _with_names(stmt: sa.Select[Any]) -> sa.Select[Any]:
    return (
        stmt.outerjoin(Institution, Institution.inst_code == Todo.inst_code)
        .outerjoin(_assignee, _assignee.staff_id == Todo.assignee_staff_id)
        .outerjoin(RuleRecord, RuleRecord.rule_id == Todo.rule_id)
    )


def list_todos(store: sa.Engine, scope: TodoScope, filters: TodoFilters, today: dt.date) -> TodoPage:
    """One page of the to-dos in scope that match the filters, sorted (default: due date, soonest first).

    The page's ids are sorted on dq_todo alone; names are joined for those ids only, so a deep page of
    a large list does not sort joined rows.
    """
    per_page = max(1, min(filters.per_page, MAX_PER_PAGE))
    where = sa.and_(scope.clause(), _filter_clause(filters, today))
    with store.connect() as conn:
        total = int(conn.scalar(sa.select(sa.func.count()).select_from(Todo).where(where)) or 0)
        pages = max(1, -(-total // per_page))
        page = max(1, min(filters.page, pages))
        ids = list(
            conn.scalars(
                sa.select(Todo.id)
                .where(where)
                .order_by(*_order(filters.sort))
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
        rows = conn.execute(
            _with_names(sa.select(*_ROW_COLUMNS).select_from(Todo)).where(Todo.id.in_(ids))
        ).all()
    position = {todo_id: i for i, todo_id in enumerate(ids)}
    items = sorted((as_dataclass(TodoRow, r) for r in rows), key=lambda r: position[r.id])
    return TodoPage(items, total, page, per_page)


def stream_todos(
    store: sa.Engine, scope: TodoScope, filters: TodoFilters, today: dt.date
) -> Iterator[TodoRow]:
    """Every to-do in scope that matches the filters, sorted as the list is, read in chunks (the export)."""
    where = sa.and_(scope.clause(), _filter_clause(filters, today))
    stmt = (
        _with_names(sa.select(*_ROW_COLUMNS).select_from(Todo)).where(where).order_by(*_order(filters.sort))
    )
    with store.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=2000).execute(stmt):
            yield as_dataclass(TodoRow, row)


@dataclass(frozen=True)
class RuleCount:
    rule_id: str
    description: str
    count: int


@dataclass(frozen=True)
class TodoCounts:
    by_status: dict[str, int]
    by_rule: list[RuleCount]
    by_card: dict[str, int] = field(default_factory=dict)

    @property
    def active(self) -> int:
        return sum(self.by_status.get(s, 0) for s in ACTIVE_STATUSES)


def todo_counts(store: sa.Engine, scope: TodoScope, filters: TodoFilters, today: dt.date) -> TodoCounts:
    """Counts by status, by rule and by card, each ignoring its own filter and keeping the others.

    One aggregate over (status, rule, card) serves all three.
    """
    statuses = None if filters.status == "all" else set(STATUS_GROUPS.get(filters.status, (filters.status,)))
    where = sa.and_(scope.clause(), _filter_clause(filters.without("status", "rule_id", "card"), today))
    with store.connect() as conn:
        groups = conn.execute(
            sa.select(Todo.status, Todo.rule_id, Todo.card, sa.func.count())
            .where(where)
            .group_by(Todo.status, Todo.rule_id, Todo.card)
        ).all()
        descriptions = dict(
            conn.execute(sa.select(RuleRecord.rule_id, RuleRecord.description)).tuples().all()
        )
    by_status: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    by_card: dict[str, int] = {}
    for status, rule_id, card, n in groups:
        status_ok = statuses is None or status in statuses
        rule_ok = not filters.rule_id or rule_id == filters.rule_id
        card_ok = not filters.card or card == filters.card
        if rule_ok and card_ok:
            by_status[status] = by_status.get(status, 0) + int(n)
        if status_ok and card_ok:
            by_rule[rule_id] = by_rule.get(rule_id, 0) + int(n)
        if status_ok and rule_ok:
            by_card[card] = by_card.get(card, 0) + int(n)
    rules = sorted(
        (RuleCount(rule_id, descriptions.get(rule_id, ""), n) for rule_id, n in by_rule.items()),
        key=lambda r: (-r.count, r.rule_id),
    )
    return TodoCounts(by_status, rules, by_card)


@dataclass(frozen=True)
class TodoDetail:
    row: TodoRow
    mgr_staff_id: str | None
    mgr_name: str | None
    last_seen: dt.date
    closed_on: dt.date | None
    reopen_count: int
    hint: str | None
    regulation: str | None
    dimension: str | None
    kind: str | None


def todo_detail(store: sa.Engine, scope: TodoScope, todo_id: int) -> TodoDetail | None:
    """The to-do with its rule and names, or None when it does not exist *or is outside the scope*."""
    manager = aliased(Staff, name="manager")
    stmt = (
        _with_names(
            sa.select(
                *_ROW_COLUMNS,
                Todo.mgr_staff_id,
                manager.staff_name.label("mgr_name"),
                Todo.last_seen,
                Todo.closed_on,
                Todo.reopen_count,
                RuleRecord.hint,
                RuleRecord.regulation,
                RuleRecord.dimension,
                RuleRecord.kind,
            ).select_from(Todo)
        )
        .outerjoin(manager, manager.staff_id == Todo.mgr_staff_id)
        .where(Todo.id == todo_id, scope.clause())
    )
    with store.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    extra = {f.name: row._mapping[f.name] for f in fields(TodoDetail) if f.name != "row"}
    return TodoDetail(row=as_dataclass(TodoRow, row), **extra)


@dataclass(frozen=True)
class EventRow:
    at: dt.datetime
    actor: str
    actor_name: str | None
    event: str
    from_status: str | None
    to_status: str | None
    detail: str | None


def todo_history(store: sa.Engine, todo_id: int) -> list[EventRow]:
    """Every event of the to-do, oldest first. Call it only for a to-do `todo_detail` found in scope."""
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(
                TodoEvent.at,
                TodoEvent.actor,
                Staff.staff_name.label("actor_name"),
                TodoEvent.event,
                TodoEvent.from_status,
                TodoEvent.to_status,
                TodoEvent.detail,
            )
            .outerjoin(Staff, Staff.staff_id == TodoEvent.actor)
            .where(TodoEvent.todo_id == todo_id)
            .order_by(TodoEvent.id)
        ).all()
    return [as_dataclass(EventRow, r) for r in rows]


@dataclass(frozen=True)
class CorrectionRow:
    id: int
    created_at: dt.datetime
    staff_id: str
    status: str
    changes: str  # JSON of masked values
    detail: str | None


def todo_corrections(store: sa.Engine, todo_id: int) -> list[CorrectionRow]:
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(
                Correction.id,
                Correction.created_at,
                Correction.staff_id,
                Correction.status,
                Correction.changes,
                Correction.detail,
            )
            .where(Correction.todo_id == todo_id)
            .order_by(Correction.id)
        ).all()
    return [as_dataclass(CorrectionRow, r) for r in rows]


def rules_with_todos(store: sa.Engine, scope: TodoScope) -> list[tuple[str, str, str]]:
    """(rule id, record type, description) of the rules that have to-dos in the scope, for a filter menu."""
    with store.connect() as conn:
        found = conn.execute(
            sa.select(Todo.rule_id, Todo.table_name, sa.func.max(RuleRecord.description))
            .join(RuleRecord, RuleRecord.rule_id == Todo.rule_id, isouter=True)
            .where(scope.clause())
            .group_by(Todo.rule_id, Todo.table_name)
            .order_by(Todo.table_name, Todo.rule_id)
        ).all()
    return [(rule_id, table, description or "") for rule_id, table, description in found]


def todo_ids_for(
    store: sa.Engine, scope: TodoScope, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The newest to-do in the scope of each (record key, rule id), to link a message's lines to."""
    keys = sorted({k for k, _ in wanted})
    with store.connect() as conn:
        found = conn.execute(
            sa.select(Todo.record_key, Todo.rule_id, sa.func.max(Todo.id))
            .where(scope.clause(), Todo.record_key.in_(keys))
            .group_by(Todo.record_key, Todo.rule_id)
        ).all()
    return {(k, r): int(i) for k, r, i in found if (k, r) in wanted}
