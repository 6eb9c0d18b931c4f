"""What every action a person takes on a to-do shares: one transaction, a lock, checks, an audit event.

An action (file an appeal, decide one, say "fixed") reads what it acts on with a row lock, checks that
the person may do it and that the state allows it, and only then writes. Its writes are conditional on
the state it checked, so two clicks at once, or a reconcile in between, cannot both succeed: the second
one fails with `InvalidState` and the store keeps the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from remediation.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from remediation.store.models import Institution, Staff, Todo, TodoEvent

Store = sa.Engine | sa.Connection


@contextmanager
def transaction(store: Store) -> Iterator[sa.Connection]:
    """One transaction on an Engine; on a Connection, the caller's transaction (begun if there is none)."""
    if isinstance(store, sa.Engine):
        with store.begin() as conn:
            yield conn
    elif store.in_transaction():
        yield store
    else:
        with store.begin():
            yield store


@contextmanager
def reading(store: Store) -> Iterator[sa.Connection]:
    if isinstance(store, sa.Engine):
        with store.connect() as conn:
            yield conn
    else:
        yield store


def text(value: str | None, what: str, limit: int, required: bool = False) -> str | None:
    """`value` trimmed; blank is None (or an error when `required`); longer than `limit` is an error."""
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(f"{what} must not be blank", code="blank")
        return None
    if len(cleaned) > limit:
        raise InvalidInput(
            f"{what} is {len(cleaned)} characters long; at most {limit} are allowed",
            code="too_long",
            length=len(cleaned),
            limit=limit,
        )
    return cleaned


def active_staff(conn: sa.Connection, staff_id: str) -> Any:
    person = conn.execute(sa.select(Staff).where(Staff.staff_id == staff_id)).first()
    if person is None:
        raise NotFound(f"there is no member of staff {staff_id!r}", code="staff_not_found", staff=staff_id)
    if not person.active:
        raise NotAllowed(
            f"{staff_id} ({person.staff_name}) is no longer active", code="staff_inactive", staff=staff_id
        )
    return person


def lock_todo(conn: sa.Connection, todo_id: int) -> Any:
    todo = conn.execute(sa.select(Todo).where(Todo.id == todo_id).with_for_update()).first()
    if todo is None:
        raise NotFound(f"there is no to-do {todo_id}", code="todo_not_found", todo=todo_id)
    return todo


def require_assignee(todo: Any, staff_id: str, doing: str) -> None:
    """Only the person a to-do is assigned to may act on it (`doing`: "appeal it", "correct it", …)."""
    if todo.assignee_staff_id != staff_id:
        raise NotAllowed(
            f"to-do {todo.id} is assigned to {todo.assignee_staff_id or 'nobody'}, not {staff_id}: "
            f"only its assignee may {doing}",
            code="not_assignee",
            todo=todo.id,
        )


def ancestors(conn: sa.Connection, inst_code: str | None) -> list[str]:
    """The institution and every institution above it, nearest first (stops on a cycle)."""
    parents = dict(conn.execute(sa.select(Institution.inst_code, Institution.parent_code)).tuples().all())
    chain: list[str] = []
    node = inst_code
    while node is not None and node in parents and node not in chain:
        chain.append(node)
        node = parents[node]
    return chain


def guarded_update(conn: sa.Connection, what: str, stmt: sa.Update) -> None:
    """Run an UPDATE that must change exactly one row, or fail: the row changed since it was checked."""
    if conn.execute(stmt).rowcount != 1:
        raise InvalidState(
            f"{what} changed while this was being done; look at it again and retry", code="changed_meanwhile"
        )


def add_event(
    conn: sa.Connection,
    todo_id: int,
    actor: str,
    event: str,
    from_status: str | None,
    to_status: str | None,
    detail: str | None,
    at: dt.datetime,
) -> None:
    conn.execute(
        sa.insert(TodoEvent).values(
            todo_id=todo_id,
            run_id=None,
            at=at,
            actor=actor,
            event=event,
            from_status=from_status,
            to_status=to_status,
            detail=detail,
        )
    )
