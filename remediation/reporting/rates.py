"""The rates a branch is assessed on, computed in one place (docs/decisions.md, "Snapshots and scores")."""

from __future__ import annotations


def completion_rate(done: float, baseline: float) -> float:
    """存量治理完成率: the share of the baseline backlog fixed or exempted; 1 when there was no backlog."""
    return done / baseline if baseline else 1.0
