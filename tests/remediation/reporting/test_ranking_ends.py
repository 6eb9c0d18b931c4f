"""A long ranking of account managers shows its best and worst ends, with ranks of the full ranking."""

from __future__ import annotations

from remediation.reporting.dashboard import LiveCounts, best_and_worst, rank


def test_a_long_ranking_keeps_its_ends_and_says_how_many_are_left_out() -> None:
    people = [(f"M{n:03d}", f"经理{n}", LiveCounts(baseline=100, done=n)) for n in range(250)]
    ranked = rank(people)
    shown, hidden = best_and_worst(ranked, shown=100)
    assert hidden == 150 and len(shown) == 100
    assert [r.rank for r in shown[:2]] == [1, 2] and [r.rank for r in shown[-2:]] == [249, 250]
    assert shown[0].key == "M249" and shown[-1].key == "M000"  # best rate first, worst last
    assert best_and_worst(ranked[:100], shown=100) == (ranked[:100], 0)
