"""Fees in integer cents: the written rounding rule, and the parts always adding up."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.pricing import Price, divide_rounding_half_even, price_order


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 2),
        (7, 2, 4),
        (3, 2, 2),
        (-5, 2, -2),
        (1249, 1000, 1),
        (1500, 1000, 2),
        (2500, 1000, 2),
    ],
)
def test_quotient_rounds_to_even_when_exactly_half_way(
    numerator: int, denominator: int, expected: int
) -> None:
    assert divide_rounding_half_even(numerator, denominator) == expected


def test_fees_are_ten_point_four_percent_when_two_fifty_dollar_tickets_are_bought() -> None:
    assert price_order(10_000) == Price(
        subtotal_cents=10_000,
        platform_fee_cents=750,
        processing_fee_cents=290,
        fees_cents=1_040,
        total_cents=11_040,
        venue_share_cents=10_000,
    )


def test_fee_rounds_to_the_even_cent_when_it_is_a_tie() -> None:
    assert price_order(20).platform_fee_cents == 2
    assert price_order(60).platform_fee_cents == 4
    assert price_order(4_995).fees_cents == 519


@given(st.integers(min_value=0, max_value=10**9))
def test_parts_add_up_to_the_total_when_any_subtotal_is_priced(subtotal_cents: int) -> None:
    price = price_order(subtotal_cents)
    assert price.platform_fee_cents + price.processing_fee_cents == price.fees_cents
    assert price.subtotal_cents + price.fees_cents == price.total_cents
    assert price.venue_share_cents == subtotal_cents
    assert abs(price.fees_cents * 1000 - subtotal_cents * 104) <= 500
    assert abs(price.platform_fee_cents * 1000 - subtotal_cents * 75) <= 500
