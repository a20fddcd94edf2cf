"""What refunds give back: ticket by ticket, with or without fees, the shares of an order's fees
add up to its fees to the cent in any order, and each refund's ledger entries balance."""

import itertools

import pytest

from engine.ledger import signed_cents
from engine.pricing import price_order
from engine.refund_amounts import (
    NOTHING,
    RefundAmounts,
    refund_entries,
    tickets_refund_amounts,
    whole_order_refund_amounts,
)

FACES = (4_999, 4_999, 12_345, 1)


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(FACES)))))
def test_fee_shares_add_up_to_the_order_fees_when_every_ticket_goes_back(
    order: tuple[int, ...],
) -> None:
    refunded = NOTHING
    for index in order:
        share = tickets_refund_amounts(
            face_cents=FACES[index],
            face_refunded_before_cents=refunded.face_cents,
            refund_fees=True,
        )
        assert sum(signed_cents(entry) for entry in refund_entries(share)) == 0
        refunded = refunded + share
    price = price_order(sum(FACES))
    assert refunded.total_cents == price.total_cents
    assert refunded.platform_fee_cents == price.platform_fee_cents
    assert refunded.processing_fee_cents == price.processing_fee_cents


def test_one_ticket_of_four_gives_back_its_face_and_fee_share_when_fees_are_refunded() -> None:
    share = tickets_refund_amounts(face_cents=5_000, face_refunded_before_cents=0, refund_fees=True)
    assert share == RefundAmounts(
        face_cents=5_000, platform_fee_cents=375, processing_fee_cents=145
    )
    kept = tickets_refund_amounts(face_cents=5_000, face_refunded_before_cents=0, refund_fees=False)
    assert kept == RefundAmounts(face_cents=5_000, platform_fee_cents=0, processing_fee_cents=0)


def test_the_whole_order_gives_back_what_is_left_when_some_went_back_before() -> None:
    before = tickets_refund_amounts(
        face_cents=5_000, face_refunded_before_cents=0, refund_fees=False
    )
    rest = whole_order_refund_amounts(
        subtotal_cents=20_000, refunded_before=before, refund_fees=True
    )
    price = price_order(20_000)
    assert rest.face_cents == 15_000 and rest.total_cents == price.total_cents - 5_000
    assert (before + rest).total_cents == price.total_cents
