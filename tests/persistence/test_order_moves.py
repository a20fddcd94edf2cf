"""Orders, payments and refunds move in Postgres only along the engine's lifecycle tables: each
write is guarded by the statuses its action may leave, and a payment found in a status its move
may not leave is an assertion (the transaction rolls back), never a silent write."""

import uuid

import asyncpg
import pytest

from engine.comps import CompReason
from engine.holds import HoldItem
from engine.order_lifecycle import (
    CHECKED_OUT_ORDER_STATUS,
    COMPLIMENTARY_ORDER_STATUS,
    OrderAction,
    OrderStatus,
)
from engine.payment_lifecycle import PAYMENT_STARTING_STATUS, PaymentStatus
from engine.refund_amounts import RefundAmounts
from engine.refund_lifecycle import RefundStatus
from persistence.comp_orders import record_comp_order
from persistence.fulfilment import mark_fulfilled
from persistence.orders import NewOrder, end_unpaid_order, insert_order, load_order, mark_paid
from persistence.refund_completion import complete_refund
from persistence.refunds import NewRefund, RefundKind, load_refund, open_refund
from persistence.tenancy import tenant_transaction
from tests.persistence.builders import Sale, place_seat_hold

NOW_MS = 1_800_000_000_000


async def test_a_stored_order_reads_as_enums_when_loaded(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        order = await load_order(connection, sale_of_tenant_a.order_id)
    assert order is not None and order.payment is not None
    assert order.status is OrderStatus.PAID
    assert order.payment.status is PaymentStatus.SUCCEEDED


async def test_a_paid_order_is_fulfilled_once_when_marked_twice(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        assert await mark_fulfilled(connection, sale_of_tenant_a.order_id)
        assert not await mark_fulfilled(connection, sale_of_tenant_a.order_id)
        order = await load_order(connection, sale_of_tenant_a.order_id)
    assert order is not None and order.status is OrderStatus.FULFILLED


async def test_a_paid_order_is_left_alone_when_asked_to_end_unpaid(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        ended = await end_unpaid_order(
            connection,
            order_id=sale_of_tenant_a.order_id,
            ending=OrderAction.EXPIRE,
            reason="late",
            outbox=[],
        )
        assert not await mark_paid(connection, order_id=sale_of_tenant_a.order_id, now_ms=NOW_MS)
        order = await load_order(connection, sale_of_tenant_a.order_id)
    assert not ended
    assert order is not None and order.status is OrderStatus.PAID


async def test_an_illegal_payment_move_is_an_assertion_when_order_and_payment_disagree(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection, sale_of_tenant_a: Sale
) -> None:
    await owner_connection.execute(
        "UPDATE orders SET status = 'pending_payment' WHERE id = $1", sale_of_tenant_a.order_id
    )
    with pytest.raises(AssertionError, match="a succeeded payment cannot become succeeded"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await mark_paid(connection, order_id=sale_of_tenant_a.order_id, now_ms=NOW_MS)
    status = await owner_connection.fetchval(
        "SELECT status FROM orders WHERE id = $1", sale_of_tenant_a.order_id
    )
    assert status == "pending_payment", "the illegal write was rolled back"


async def test_order_payment_and_refund_end_refunded_once_when_the_refund_completes(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    order_id = sale_of_tenant_a.order_id
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        opened = await open_refund(
            connection,
            NewRefund(
                refund_id=uuid.uuid4(),
                order_id=order_id,
                kind=RefundKind.VENUE,
                reason="show moved",
                amounts=RefundAmounts(
                    face_cents=18000, platform_fee_cents=600, processing_fee_cents=300
                ),
                refund_fees=True,
                whole_order=True,
                tickets=(),
                provider_refund_id=None,
            ),
        )
        assert opened.status is RefundStatus.PENDING
        assert opened.kind == RefundKind.VENUE
        completed_first = await complete_refund(
            connection, refund=opened, provider_refund_id="re_1", now_ms=NOW_MS
        )
        completed_again = await complete_refund(
            connection, refund=opened, provider_refund_id="re_1", now_ms=NOW_MS
        )
        refund = await load_refund(connection, opened.refund_id)
        order = await load_order(connection, order_id)
    assert (completed_first, completed_again) == (True, False)
    assert refund is not None and refund.status is RefundStatus.SUCCEEDED
    assert order is not None and order.payment is not None
    assert (order.status, order.payment.status) == (OrderStatus.REFUNDED, PaymentStatus.REFUNDED)


async def test_a_checked_out_order_and_its_payment_start_pending_when_inserted(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    sale = sale_of_tenant_a
    async with tenant_transaction(service_pool, sale.tenant_id) as connection:
        hold_id = await place_seat_hold(connection, sale, sale.free_seat_id)
        order = await insert_order(
            connection,
            NewOrder(
                order_id=uuid.uuid4(),
                tenant_id=sale.tenant_id,
                event_id=sale.event_id,
                hold_id=hold_id,
                user_id="fan-2",
                currency="USD",
                subtotal_cents=8000,
                fees_cents=400,
                total_cents=8400,
                expires_at_ms=NOW_MS,
                contact_email=None,
                items=(
                    HoldItem(
                        ticket_type_id=str(sale.seated_ticket_type_id),
                        quantity=1,
                        unit_price_cents=8000,
                    ),
                ),
            ),
            now_ms=NOW_MS,
        )
    assert order.payment is not None
    assert (order.status, order.payment.status) == (
        CHECKED_OUT_ORDER_STATUS,
        PAYMENT_STARTING_STATUS,
    )


async def test_a_complimentary_order_is_born_fulfilled_when_recorded(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    sale = sale_of_tenant_a
    order_id = uuid.uuid4()
    async with tenant_transaction(service_pool, sale.tenant_id) as connection:
        tickets = await record_comp_order(
            connection,
            order_id=order_id,
            event_id=sale.event_id,
            owner_user_id="guest-1",
            currency="USD",
            contact_email=None,
            reason=CompReason.PRESS,
            items=[
                HoldItem(
                    ticket_type_id=str(sale.general_ticket_type_id),
                    quantity=1,
                    unit_price_cents=0,
                )
            ],
            seats=[],
            given_by="venue-1",
            note=None,
            new_ticket_id=uuid.uuid4,
        )
        order = await load_order(connection, order_id)
    assert tickets is not None and len(tickets) == 1
    assert order is not None and order.complimentary
    assert order.status is COMPLIMENTARY_ORDER_STATUS
