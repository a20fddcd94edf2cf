"""The venue's refund decides before anything moves: another tenant's order does not exist, a
given or unpaid order is not refundable, and a refunded one is answered as it stands."""

import asyncio
import uuid

import msgspec
import pytest

from persistence.orders import OrderRecord, PaymentRecord
from services.refunds import refund_order
from services.refusals import NothingFound, OrderNotRefundable

TENANT_ID = uuid.UUID(int=1)
OTHER_TENANT_ID = uuid.UUID(int=2)
PAID = OrderRecord(
    order_id=uuid.UUID(int=10),
    tenant_id=TENANT_ID,
    event_id=uuid.UUID(int=20),
    hold_id=uuid.UUID(int=30),
    user_id=f"{TENANT_ID}/fan",
    status="paid",
    currency="USD",
    subtotal_cents=1_000,
    fees_cents=100,
    total_cents=1_100,
    expires_at_ms=0,
    created_at_ms=0,
    paid_at_ms=1,
    contact_email=None,
    payment=PaymentRecord(
        payment_id=uuid.UUID(int=40),
        idempotency_key="key",
        payment_intent_id="pi_1",
        client_secret="secret",
        status="succeeded",
    ),
)


class RecordingSettlement:
    """Settlement's refund, recorded: the order comes back refunded."""

    def __init__(self) -> None:
        self.refunded: list[tuple[uuid.UUID, str]] = []

    async def refund(self, order: OrderRecord, reason: str) -> OrderRecord:
        self.refunded.append((order.order_id, reason))
        return msgspec.structs.replace(order, status="refunded")


def refund(
    order: OrderRecord, settlement: RecordingSettlement, venue_tenant_id: uuid.UUID
) -> OrderRecord:
    return asyncio.run(
        refund_order(
            settlement,  # type: ignore[arg-type]
            order=order,
            order_tenant_id=TENANT_ID,
            venue_tenant_id=venue_tenant_id,
            reason="cancelled show",
        )
    )


def test_paid_order_is_refunded_once_when_the_venue_asks() -> None:
    settlement = RecordingSettlement()
    refunded = refund(PAID, settlement, TENANT_ID)
    assert refunded.status == "refunded"
    assert settlement.refunded == [(PAID.order_id, "cancelled show")]


def test_refunded_order_is_answered_as_it_stands_when_asked_again() -> None:
    settlement = RecordingSettlement()
    already = msgspec.structs.replace(PAID, status="refunded")
    assert refund(already, settlement, TENANT_ID) == already
    assert settlement.refunded == []


def test_order_is_not_found_when_another_tenant_asks() -> None:
    settlement = RecordingSettlement()
    with pytest.raises(NothingFound):
        refund(PAID, settlement, OTHER_TENANT_ID)
    assert settlement.refunded == []


@pytest.mark.parametrize(
    ("order", "complimentary"),
    [
        (msgspec.structs.replace(PAID, payment=None, hold_id=None), True),
        (msgspec.structs.replace(PAID, status="expired"), False),
        (msgspec.structs.replace(PAID, status="pending_payment"), False),
    ],
)
def test_order_is_not_refundable_when_it_was_given_or_never_paid(
    order: OrderRecord, complimentary: bool
) -> None:
    settlement = RecordingSettlement()
    with pytest.raises(OrderNotRefundable) as raised:
        refund(order, settlement, TENANT_ID)
    assert (raised.value.order_status, raised.value.complimentary) == (order.status, complimentary)
    assert settlement.refunded == []
