"""Follow-ups: what a reconciled check date still needs from the asset-triggered DAGs (`snapshot`, `remind`).

The reconcile task requests both; dq_snapshot and dq_notify do the days their asset events carry plus every
pending one, then mark them done. Airflow drops asset events while a DAG is paused, so this record is what
makes a day's snapshot and reminders happen anyway, on the DAG's next run (its daily schedule runs at once
when it is unpaused). A request made while a follow-up runs stays pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from remediation.clock import now
from remediation.store.workflow_models import FollowUp

KINDS = ("snapshot", "remind")


def request(store: sa.Engine, day: dt.date, kinds: Iterable[str] = KINDS) -> None:
    """Ask for the day's follow-ups (again: a re-run of the day needs a new snapshot)."""
    at = now()
    rows = [{"day": day, "kind": kind, "requested_at": at, "done_at": None} for kind in kinds]
    insert = (postgresql.insert if store.dialect.name == "postgresql" else sqlite.insert)(FollowUp)
    statement = insert.values(rows).on_conflict_do_update(
        index_elements=["day", "kind"], set_={"requested_at": at, "done_at": None}
    )
    with store.begin() as conn:
        conn.execute(statement)


def pending(store: sa.Engine, kind: str) -> list[dt.date]:
    with store.connect() as conn:
        days = conn.scalars(
            sa.select(FollowUp.day)
            .where(FollowUp.kind == kind, FollowUp.done_at.is_(None))
            .order_by(FollowUp.day)
        )
        return list(days)


def mark_done(store: sa.Engine, day: dt.date, kind: str, started: dt.datetime) -> None:
    """Done, unless it was requested again after `started` (then the next run does it again)."""
    with store.begin() as conn:
        conn.execute(
            sa.update(FollowUp)
            .where(FollowUp.day == day, FollowUp.kind == kind, FollowUp.requested_at <= started)
            .values(done_at=now())
        )
