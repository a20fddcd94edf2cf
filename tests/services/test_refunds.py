"""The venue's refund decides before anything moves: another tenant's order does not exist, and
a given or unpaid order is not refundable."""

import asyncio
import uuid

import msgspec
import pytest

from persistence.orders import OrderRecord, PaymentRecord
from services.refunds import check_refundable, open_venue_refund
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


class UntouchablePool:
    """A pool that must not be reached: a refused refund opens no transaction."""

    def acquire(self) -> None:
        raise AssertionError("a refused refund reached the database")


def test_order_is_not_found_when_another_tenant_asks() -> None:
    with pytest.raises(NothingFound):
        asyncio.run(
            open_venue_refund(
                UntouchablePool(),  # type: ignore[arg-type]
                order=PAID,
                order_tenant_id=TENANT_ID,
                venue_tenant_id=OTHER_TENANT_ID,
                reason="cancelled show",
                ticket_ids=None,
                refund_fees=True,
            )
        )


@pytest.mark.parametrize("status", ["paid", "fulfilled", "partially_refunded", "refunded"])
def test_order_is_refundable_when_its_money_arrived(status: str) -> None:
    check_refundable(msgspec.structs.replace(PAID, status=status))


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
    with pytest.raises(OrderNotRefundable) as raised:
        asyncio.run(
            open_venue_refund(
                UntouchablePool(),  # type: ignore[arg-type]
                order=order,
                order_tenant_id=TENANT_ID,
                venue_tenant_id=TENANT_ID,
                reason="cancelled show",
                ticket_ids=None,
                refund_fees=True,
            )
        )
    assert (raised.value.order_status, raised.value.complimentary) == (order.status, complimentary)
