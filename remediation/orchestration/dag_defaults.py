"""What every DAG of the platform shares, in one place: ids, asset URIs, the start date and the retries.

Imported by DAG files at parse time, so nothing heavy: the standard library, pendulum and our settings.
"""

from __future__ import annotations

import datetime as dt

import pendulum

from remediation import settings
from remediation.clock import TIMEZONE

START_DATE = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
SNAPSHOT_DAG = "dq_snapshot"
NOTIFY_DAG = "dq_notify"
OUTBOX_DAG = "dq_outbox"
SNAPSHOTS_ASSET = "dqgov://snapshots"
CATCH_UP_CRON = "0 9 * * *"  # Asia/Shanghai: dq_snapshot and dq_notify catch up on pending follow-ups


def check_dag_id(table: str) -> str:
    """The check DAG of a record type."""
    return f"dq_{table}"


def todos_asset(table: str) -> str:
    """The asset a check DAG updates when it has reconciled a record type's to-dos."""
    return f"dqgov://todos/{table}"


def default_args() -> dict[str, object]:
    """Two retries; the delay is DQGOV_RETRY_DELAY_SECONDS (tests shorten it)."""
    delay = settings.integer_of("DQGOV_RETRY_DELAY_SECONDS")
    return {"owner": "data-office", "retries": 2, "retry_delay": dt.timedelta(seconds=delay)}
