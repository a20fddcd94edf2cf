"""Price phases as pure values: which phase prices each unit (by unit number, `first`s running
together, `until`s by time), the checks phases must pass, and a discounted unit's price."""

import pytest

from engine import limits
from engine.price_phases import (
    PricePhase,
    PriceRun,
    current_price_cents,
    price_phases_problems,
    unit_price_runs,
)
from engine.pricing import discounted_unit_price

UNTIL_MS = 5_000_000
PHASES_MAX = limits.PRICE_PHASES_PER_TICKET_TYPE_MAX
PHASES = (
    PricePhase(price_cents=4_000, first=500),
    PricePhase(price_cents=4_500, until_ms=UNTIL_MS),
    PricePhase(price_cents=5_000),
)


def test_a_hold_straddling_a_first_boundary_prices_each_unit_by_its_phase() -> None:
    assert unit_price_runs(PHASES, 499, 2, 0) == (
        PriceRun(price_cents=4_000, quantity=1),
        PriceRun(price_cents=4_500, quantity=1),
    )


def test_the_units_up_to_first_take_the_first_phase_price_when_none_is_taken() -> None:
    assert unit_price_runs(PHASES, 0, 500, 0) == (PriceRun(price_cents=4_000, quantity=500),)
    assert current_price_cents(PHASES, 499, 0) == 4_000
    assert current_price_cents(PHASES, 500, 0) == 4_500


def test_an_until_phase_ends_at_exactly_its_until() -> None:
    assert current_price_cents(PHASES, 600, UNTIL_MS - 1) == 4_500
    assert current_price_cents(PHASES, 600, UNTIL_MS) == 5_000


def test_a_first_phase_left_before_its_units_are_taken_still_prices_them_after_an_until() -> None:
    phases = (
        PricePhase(price_cents=1_000, until_ms=UNTIL_MS),
        PricePhase(price_cents=2_000, first=10),
        PricePhase(price_cents=3_000),
    )
    assert current_price_cents(phases, 50, UNTIL_MS - 1) == 1_000
    assert current_price_cents(phases, 5, UNTIL_MS) == 2_000
    assert unit_price_runs(phases, 8, 4, UNTIL_MS) == (
        PriceRun(price_cents=2_000, quantity=2),
        PriceRun(price_cents=3_000, quantity=2),
    )


def test_several_first_phases_count_by_unit_number_across_a_running_total() -> None:
    phases = (
        PricePhase(price_cents=1_000, first=2),
        PricePhase(price_cents=2_000, first=3),
        PricePhase(price_cents=3_000),
    )
    assert unit_price_runs(phases, 0, 7, 0) == (
        PriceRun(price_cents=1_000, quantity=2),
        PriceRun(price_cents=2_000, quantity=3),
        PriceRun(price_cents=3_000, quantity=2),
    )
    assert unit_price_runs(phases, 3, 1, 0) == (PriceRun(price_cents=2_000, quantity=1),)


def test_units_taken_in_a_time_phase_count_towards_a_later_first_phase() -> None:
    phases = (
        PricePhase(price_cents=1_000, until_ms=UNTIL_MS),
        PricePhase(price_cents=2_000, first=100),
        PricePhase(price_cents=3_000),
    )
    assert current_price_cents(phases, 100, UNTIL_MS) == 3_000


def test_good_phases_have_no_problems() -> None:
    assert price_phases_problems(PHASES) == []
    assert price_phases_problems(()) == []
    assert price_phases_problems((PricePhase(price_cents=0),)) == []


@pytest.mark.parametrize(
    ("phases", "problem"),
    [
        ((PricePhase(price_cents=1, first=3),), "the last phase has neither"),
        ((PricePhase(price_cents=1), PricePhase(price_cents=2)), "exactly one of first, until"),
        (
            (PricePhase(price_cents=1, first=3, until_ms=UNTIL_MS), PricePhase(price_cents=2)),
            "exactly one of first, until",
        ),
        ((PricePhase(price_cents=-1),), "price_cents must be 0"),
        ((PricePhase(price_cents=1, first=0), PricePhase(price_cents=2)), "first must be 1"),
        (
            (
                PricePhase(price_cents=1, until_ms=UNTIL_MS),
                PricePhase(price_cents=2, until_ms=UNTIL_MS),
                PricePhase(price_cents=3),
            ),
            "until must be after",
        ),
        (
            (
                *(PricePhase(price_cents=1, first=1) for _ in range(PHASES_MAX)),
                PricePhase(price_cents=2),
            ),
            "at most",
        ),
    ],
)
def test_bad_phases_are_named_with_their_problem(
    phases: tuple[PricePhase, ...], problem: str
) -> None:
    problems = price_phases_problems(phases)
    assert any(problem in found for found in problems), problems
    assert all(found.startswith("price_phases") for found in problems)


@pytest.mark.parametrize(
    ("price_cents", "percent", "amount_cents", "expected"),
    [
        (4_000, None, None, 4_000),
        (4_000, 10, None, 3_600),
        (4_005, 10, None, 3_604),
        (4_015, 10, None, 3_614),
        (4_025, 10, None, 3_622),
        (5, 50, None, 2),
        (7, 50, None, 4),
        (4_000, 100, None, 0),
        (4_000, None, 500, 3_500),
        (400, None, 500, 0),
    ],
)
def test_a_discounted_unit_is_rounded_half_to_even_and_never_below_zero(
    price_cents: int, percent: int | None, amount_cents: int | None, expected: int
) -> None:
    assert discounted_unit_price(price_cents, percent, amount_cents) == expected
