"""The fairness figures: a rank correlation near 0 for the pre-queue draw, near 1 and few fans
overtaken for first come, first served."""

import random

import pytest

from loadtests.fairness import (
    Admission,
    average_ranks,
    measure_fairness,
    overtaken_share,
    rank_correlation,
)


def test_tied_values_share_the_mean_of_their_ranks() -> None:
    assert average_ranks([30, 10, 20, 10]) == [4.0, 1.5, 3.0, 1.5]


def test_rank_correlation_is_one_for_the_same_order_and_minus_one_for_the_reverse() -> None:
    arrivals = list(range(100))

    assert rank_correlation(arrivals, [a * 7 + 3 for a in arrivals]) == pytest.approx(1)
    assert rank_correlation(arrivals, [-a for a in arrivals]) == pytest.approx(-1)


def test_rank_correlation_is_none_when_a_side_does_not_vary_or_is_too_short() -> None:
    assert rank_correlation([1, 2, 3], [5, 5, 5]) is None
    assert rank_correlation([1], [2]) is None


def test_a_shuffled_order_correlates_with_arrival_near_zero() -> None:
    generator = random.Random(11)
    admitted_at = list(range(5_000))
    generator.shuffle(admitted_at)

    correlation = rank_correlation(list(range(5_000)), admitted_at)

    assert correlation is not None and abs(correlation) < 0.05


def test_fans_admitted_together_overtake_nobody() -> None:
    assert overtaken_share([100, 100, 100, 200, 200]) == 0


def test_a_fan_admitted_after_a_later_arrival_counts_as_overtaken() -> None:
    # arrival order: the second fan is admitted before the first, the fourth before the third
    assert overtaken_share([200, 100, 400, 300, 500]) == pytest.approx(2 / 5)
    assert overtaken_share([]) is None


def test_fairness_splits_the_pre_queue_draw_from_later_joiners() -> None:
    generator = random.Random(5)
    drawn = list(range(100))
    generator.shuffle(drawn)
    admissions = [
        Admission(arrival=arrival, pre_queued=True, admitted_at_ms=1_000 + slot * 10)
        for arrival, slot in enumerate(drawn)
    ] + [
        Admission(arrival=100 + index, pre_queued=False, admitted_at_ms=5_000 + index // 3 * 10)
        for index in range(60)
    ]
    presale_line_in_reverse = [
        Admission(arrival=200 - index, pre_queued=False, presale=True, admitted_at_ms=index)
        for index in range(30)
    ]

    fairness = measure_fairness(admissions + presale_line_in_reverse)

    assert fairness.presale_admitted == 30
    assert fairness.pre_queued_admitted == 100 and fairness.later_admitted == 60
    assert fairness.pre_queue_rank_correlation is not None
    assert abs(fairness.pre_queue_rank_correlation) < 0.3
    assert fairness.later_rank_correlation == pytest.approx(1, abs=0.01)
    assert fairness.later_overtaken_share == 0
