"""The pre-queue draw: the generator matches the published splitmix64 vectors, the shuffle is a
permutation decided by the seed alone, and every order is equally likely."""

import collections
import itertools

import pytest

from engine.pre_queue_draw import SEED_MAX, SplitMix64, draw_pre_queue_order

# The first outputs of Vigna's reference splitmix64.c seeded with 1234567.
REFERENCE_SEED = 1234567
REFERENCE_OUTPUTS = [
    6457827717110365317,
    3203168211198807973,
    9817491932198370423,
    4593380528125082431,
    16408922859458223821,
]
# Chi-square with 23 degrees of freedom: exceeded by chance with probability 0.001.
CHI_SQUARE_23_DEGREES_AT_ONE_IN_A_THOUSAND = 49.73


def test_generator_matches_the_reference_outputs_when_seeded_like_the_reference() -> None:
    generator = SplitMix64(REFERENCE_SEED)
    assert [generator.next_u64() for _ in REFERENCE_OUTPUTS] == REFERENCE_OUTPUTS


def test_generator_refuses_a_seed_when_it_does_not_fit_in_64_bits() -> None:
    with pytest.raises(AssertionError):
        SplitMix64(SEED_MAX + 1)
    with pytest.raises(AssertionError):
        SplitMix64(-1)


def test_bounded_draws_stay_below_the_bound_when_the_bound_is_not_a_power_of_two() -> None:
    generator = SplitMix64(7)
    draws = [generator.below(3) for _ in range(3_000)]
    assert set(draws) == {0, 1, 2}
    assert all(600 < count < 1_400 for count in collections.Counter(draws).values())


@pytest.mark.parametrize("pre_queue_count", [0, 1, 2, 17, 1_000])
def test_draw_is_a_permutation_when_the_pre_queue_has_any_size(pre_queue_count: int) -> None:
    order = draw_pre_queue_order(99, pre_queue_count)
    assert sorted(order) == list(range(pre_queue_count))


def test_same_order_is_drawn_when_the_seed_is_the_same() -> None:
    assert draw_pre_queue_order(2024, 500) == draw_pre_queue_order(2024, 500)


def test_orders_differ_when_the_seeds_differ() -> None:
    orders = {tuple(draw_pre_queue_order(seed, 50)) for seed in range(20)}
    assert len(orders) == 20


def test_every_order_is_about_equally_frequent_when_drawn_over_many_seeds() -> None:
    expected_per_order = 1_000
    orders = list(itertools.permutations(range(4)))
    counts = collections.Counter(
        tuple(draw_pre_queue_order(seed, 4)) for seed in range(expected_per_order * len(orders))
    )
    assert set(counts) == set(orders)
    chi_square = sum(
        (counts[order] - expected_per_order) ** 2 / expected_per_order for order in orders
    )
    assert chi_square < CHI_SQUARE_23_DEGREES_AT_ONE_IN_A_THOUSAND, counts


def test_each_fan_is_about_equally_likely_to_be_first_when_the_pre_queue_is_larger() -> None:
    seeds = 10_000
    firsts = collections.Counter(draw_pre_queue_order(seed, 10)[0] for seed in range(seeds))
    assert all(abs(firsts[fan] - seeds / 10) < 150 for fan in range(10)), firsts
