"""What an order costs, in integer cents, and who gets which part.

Rule: fees are computed once per order, from the order's subtotal (the sum of face values). The
combined fee (7.5 % platform + 2.9 % processing = 10.4 %) is rounded half to even to a whole cent;
the platform fee is rounded the same way; the processing fee is the difference, so the parts always
add up to the total. The venue's share is the subtotal; the fees go to the platform and the card
processor. Change a rate only here and only with a product decision.
"""

import msgspec

PLATFORM_FEE_PER_MILLE = 75
PROCESSING_FEE_PER_MILLE = 29
PER_MILLE = 1_000


class Price(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    subtotal_cents: int
    platform_fee_cents: int
    processing_fee_cents: int
    fees_cents: int
    total_cents: int
    venue_share_cents: int


def divide_rounding_half_even(numerator: int, denominator: int) -> int:
    """The integer nearest to numerator / denominator, ties to the even neighbour."""
    assert denominator > 0
    quotient, remainder = divmod(numerator, denominator)
    twice_remainder = 2 * remainder
    if twice_remainder > denominator or (twice_remainder == denominator and quotient % 2 == 1):
        return quotient + 1
    return quotient


def price_order(subtotal_cents: int) -> Price:
    assert subtotal_cents >= 0
    fees_cents = divide_rounding_half_even(
        subtotal_cents * (PLATFORM_FEE_PER_MILLE + PROCESSING_FEE_PER_MILLE), PER_MILLE
    )
    platform_fee_cents = divide_rounding_half_even(
        subtotal_cents * PLATFORM_FEE_PER_MILLE, PER_MILLE
    )
    return Price(
        subtotal_cents=subtotal_cents,
        platform_fee_cents=platform_fee_cents,
        processing_fee_cents=fees_cents - platform_fee_cents,
        fees_cents=fees_cents,
        total_cents=subtotal_cents + fees_cents,
        venue_share_cents=subtotal_cents,
    )


PERCENT = 100


def discounted_unit_price(
    price_cents: int, percent: int | None = None, amount_cents: int | None = None
) -> int:
    """One unit's price after a discount of `percent` or `amount_cents` (at most one is given),
    never below 0; a percentage is taken off each unit and rounded half to even to a whole cent,
    so every unit of a hold costs the same and an order's subtotal is the sum of its units."""
    assert price_cents >= 0
    assert percent is None or amount_cents is None, "a discount is a percentage or an amount"
    if percent is not None:
        assert 0 <= percent <= PERCENT
        return divide_rounding_half_even(price_cents * (PERCENT - percent), PERCENT)
    if amount_cents is not None:
        assert amount_cents >= 0
        return max(0, price_cents - amount_cents)
    return price_cents
