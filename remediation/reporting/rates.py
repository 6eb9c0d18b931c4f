"""The rates a branch is assessed on, computed in one place (docs/decisions.md, "Snapshots and scores")."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")


def completion_rate(done: float, baseline: float) -> float:
    """存量治理完成率: the share of the baseline backlog fixed or exempted; 1 when there was no backlog."""
    return done / baseline if baseline else 1.0


def shared_ranks(ordered: Sequence[T], merit: Callable[[T], Hashable]) -> list[int]:
    """Competition ranks of rows already sorted best first: rows of equal merit share a rank and the next
    rank skips (1, 1, 3), as a league table does. `merit` is what the ranking is by, nothing else."""
    ranks: list[int] = []
    for position, row in enumerate(ordered, start=1):
        tied = ranks and merit(ordered[position - 2]) == merit(row)
        ranks.append(ranks[-1] if tied else position)
    return ranks
