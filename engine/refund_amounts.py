"""What a refund gives back, in integer cents, and the ledger entries that record it.

Rule: a ticket's face value always goes back; its share of the fees goes back when asked. Shares
are cumulative differences of engine/pricing.py's rounding, taken in the order refunds are opened:
the tickets refunded so far with face value `c`, refunding tickets of face value `f` gives back
`price_order(c + f) - price_order(c)` of each fee. So the shares of every ticket of an order add
up to the order's fees to the cent, whatever order they go back in. A refund of the whole order
gives back exactly what is left; money alone comes out of the face value left before the fees.
"""

import msgspec

from engine.ledger import LedgerEntry, money_in_entries, reversal
from engine.pricing import price_order


class RefundAmounts(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    face_cents: int
    platform_fee_cents: int
    processing_fee_cents: int

    @property
    def total_cents(self) -> int:
        return self.face_cents + self.platform_fee_cents + self.processing_fee_cents

    def __add__(self, other: "RefundAmounts") -> "RefundAmounts":
        return RefundAmounts(
            face_cents=self.face_cents + other.face_cents,
            platform_fee_cents=self.platform_fee_cents + other.platform_fee_cents,
            processing_fee_cents=self.processing_fee_cents + other.processing_fee_cents,
        )


NOTHING = RefundAmounts(face_cents=0, platform_fee_cents=0, processing_fee_cents=0)


def tickets_refund_amounts(
    *, face_cents: int, face_refunded_before_cents: int, refund_fees: bool
) -> RefundAmounts:
    """The money back for tickets of face value `face_cents`, after `face_refunded_before_cents`
    of the order's tickets went back in earlier refunds."""
    assert face_cents >= 0 and face_refunded_before_cents >= 0
    if not refund_fees:
        return RefundAmounts(face_cents=face_cents, platform_fee_cents=0, processing_fee_cents=0)
    before = price_order(face_refunded_before_cents)
    after = price_order(face_refunded_before_cents + face_cents)
    return RefundAmounts(
        face_cents=face_cents,
        platform_fee_cents=after.platform_fee_cents - before.platform_fee_cents,
        processing_fee_cents=after.processing_fee_cents - before.processing_fee_cents,
    )


def whole_order_refund_amounts(
    *, subtotal_cents: int, refunded_before: RefundAmounts, refund_fees: bool
) -> RefundAmounts:
    """What is left of the order's money (its fees only when `refund_fees`)."""
    price = price_order(subtotal_cents)
    left = RefundAmounts(
        face_cents=price.subtotal_cents - refunded_before.face_cents,
        platform_fee_cents=price.platform_fee_cents - refunded_before.platform_fee_cents,
        processing_fee_cents=price.processing_fee_cents - refunded_before.processing_fee_cents,
    )
    assert min(left.face_cents, left.platform_fee_cents, left.processing_fee_cents) >= 0, left
    if refund_fees:
        return left
    return RefundAmounts(face_cents=left.face_cents, platform_fee_cents=0, processing_fee_cents=0)


def money_refund_amounts(
    *, amount_cents: int, subtotal_cents: int, refunded_before: RefundAmounts
) -> RefundAmounts:
    """Money alone, up to what the order has left: taken from the face value left first, then
    from the platform fee left, then from the processing fee left, so no part of the order ever
    goes back more than it was paid and a later refund of the rest finds every part whole."""
    left = whole_order_refund_amounts(
        subtotal_cents=subtotal_cents, refunded_before=refunded_before, refund_fees=True
    )
    assert 0 < amount_cents <= left.total_cents, (amount_cents, left)
    face_cents = min(amount_cents, left.face_cents)
    platform_fee_cents = min(amount_cents - face_cents, left.platform_fee_cents)
    return RefundAmounts(
        face_cents=face_cents,
        platform_fee_cents=platform_fee_cents,
        processing_fee_cents=amount_cents - face_cents - platform_fee_cents,
    )


def refund_entries(amounts: RefundAmounts) -> tuple[LedgerEntry, ...]:
    """The reversal of a sale's entries for this much: each account moved back by its part."""
    return reversal(
        money_in_entries(
            total_cents=amounts.total_cents,
            venue_cents=amounts.face_cents,
            platform_fee_cents=amounts.platform_fee_cents,
            processing_fee_cents=amounts.processing_fee_cents,
        )
    )
