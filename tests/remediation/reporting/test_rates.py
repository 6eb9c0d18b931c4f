"""Ranks a head can trust: equal merit, equal rank (1, 1, 3), on the dashboard and in the summary."""

from __future__ import annotations

import datetime as dt

from remediation.reporting.dashboard import LiveCounts, RecordQuality, rank
from remediation.reporting.rates import shared_ranks


def test_equal_merit_shares_a_rank_and_the_next_rank_skips() -> None:
    assert shared_ranks([90, 80, 80, 70, 70, 70, 10], lambda v: v) == [1, 2, 2, 4, 4, 4, 7]
    assert shared_ranks([], lambda v: v) == []


def test_the_dashboard_ranks_ties_together_and_lists_them_by_key() -> None:
    def counts(done: int, overdue: int) -> LiveCounts:
        return LiveCounts(baseline=10, done=done, active=10 - done, overdue=overdue)

    ranked = rank(
        [
            ("B", "乙", counts(8, 0)),
            ("A", "甲", counts(8, 0)),
            ("C", "丙", counts(5, 1)),
            ("D", "丁", counts(9, 0)),
        ]
    )
    assert [(r.key, r.rank) for r in ranked] == [("D", 1), ("A", 2), ("B", 2), ("C", 4)]


def test_new_record_quality_without_new_records_is_not_a_hundred_percent() -> None:
    assert RecordQuality(dt.date(2026, 11, 20), 0, 0).shown is None
    assert RecordQuality(dt.date(2026, 11, 20), 4, 1).shown == 0.75
