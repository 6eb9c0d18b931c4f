"""To-do events (`dq_todo_event`) written set-wise: one per to-do matching a condition, in one statement."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from remediation.clock import now
from remediation.store.models import Todo, TodoEvent

_t = cast(sa.Table, Todo.__table__)
EVENT_COLUMNS = ["todo_id", "run_id", "at", "actor", "event", "from_status", "to_status", "detail"]


def log_events(
    conn: sa.Connection,
    where: ColumnElement[bool],
    event: str,
    *,
    actor: str = "system",
    run_id: int | None = None,
    to_status: ColumnElement[Any] | None = None,
    from_status: ColumnElement[Any] | None = None,
    detail: ColumnElement[Any] | str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append `event` for every to-do matching `where` (a condition on `dq_todo`). The statuses default to
    the to-do's current one (an event that changes no status)."""
    text = detail if isinstance(detail, ColumnElement) else sa.literal(detail, sa.Text)
    conn.execute(
        sa.insert(TodoEvent).from_select(
            EVENT_COLUMNS,
            sa.select(
                _t.c.id,
                sa.literal(run_id, sa.Integer),
                sa.literal(at or now(), sa.DateTime(timezone=True)),
                sa.literal(actor),
                sa.literal(event),
                from_status if from_status is not None else _t.c.status,
                to_status if to_status is not None else _t.c.status,
                text,
            ).where(where),
        )
    )
