"""What every DAG of the platform shares; imported by DAG files at parse time, so stdlib only."""

from __future__ import annotations

import datetime as dt
import os

import pendulum

START_DATE = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")


def default_args() -> dict[str, object]:
    """Two retries; the delay is DQGOV_RETRY_DELAY_SECONDS (tests shorten it)."""
    delay = int(os.environ.get("DQGOV_RETRY_DELAY_SECONDS", "300"))
    return {"owner": "data-office", "retries": 2, "retry_delay": dt.timedelta(seconds=delay)}
