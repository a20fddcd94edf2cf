"""What refunds give back: ticket by ticket, with or without fees, the shares of an order's fees
add up to its fees to the cent in any order, money alone never takes a part past what was paid,
and each refund's ledger entries balance."""

import itertools

import pytest

from engine.ledger import signed_cents
from engine.pricing import price_order
from engine.refund_amounts import (
    NOTHING,
    RefundAmounts,
    money_refund_amounts,
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


def test_money_alone_past_the_face_value_takes_the_fees_and_the_rest_still_adds_up() -> None:
    price = price_order(20_000)
    money = money_refund_amounts(
        amount_cents=20_100, subtotal_cents=20_000, refunded_before=NOTHING
    )
    assert money == RefundAmounts(face_cents=20_000, platform_fee_cents=100, processing_fee_cents=0)
    rest = whole_order_refund_amounts(
        subtotal_cents=20_000, refunded_before=money, refund_fees=True
    )
    assert min(rest.face_cents, rest.platform_fee_cents, rest.processing_fee_cents) >= 0
    assert rest.face_cents == 0
    assert (money + rest) == RefundAmounts(
        face_cents=price.subtotal_cents,
        platform_fee_cents=price.platform_fee_cents,
        processing_fee_cents=price.processing_fee_cents,
    )
    assert sum(signed_cents(entry) for entry in refund_entries(money)) == 0


@pytest.mark.parametrize("amount_cents", [1, 4_999, 5_000, 15_000, 15_001, 16_000])
def test_money_alone_after_a_ticket_comes_out_of_what_is_left_part_by_part(
    amount_cents: int,
) -> None:
    ticket = tickets_refund_amounts(
        face_cents=5_000, face_refunded_before_cents=0, refund_fees=True
    )
    money = money_refund_amounts(
        amount_cents=amount_cents, subtotal_cents=20_000, refunded_before=ticket
    )
    left = whole_order_refund_amounts(
        subtotal_cents=20_000, refunded_before=ticket, refund_fees=True
    )
    assert money.total_cents == amount_cents
    assert money.face_cents == min(amount_cents, left.face_cents)
    assert money.platform_fee_cents <= left.platform_fee_cents
    assert money.processing_fee_cents <= left.processing_fee_cents
