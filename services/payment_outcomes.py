"""What a payment's outcome does to its order: a success sells the hold and issues the tickets; a
decline or an ended window cancels the PaymentIntent, ends the order and releases the hold.

A success, from whichever source learns of it first (the development pay endpoint, a webhook, the
reconciler), is settled here; one that finds its hold gone is refunded, never kept without a
ticket. Every step is guarded in Postgres and keyed in the engine and at Stripe, so it may repeat.
"""

import logging
import uuid

from engine.commands import ConvertHold, ReleaseHold
from engine.ledger import sale_entries
from engine.order_lifecycle import (
    ENDED_UNPAID_ORDER_STATUSES,
    OrderAction,
    OrderStatus,
    order_status_after,
)
from engine.pricing import price_order
from engine.rejections import Rejected
from notifications.notices import NoticeKind
from payments.announcements import mint_requests, order_notice
from payments.stripe_api import PaymentIntentState
from persistence.fulfilment import (
    issue_tickets,
    load_event_names,
    mark_fulfilled,
    record_ledger_entries,
)
from persistence.hold_repository import load_hold
from persistence.located_ids import event_number_of, mint_located_id
from persistence.orders import OrderRecord, end_unpaid_order, mark_paid, write_outbox
from persistence.refunds import RefundKind, sale_is_live
from persistence.tenancy import tenant_transaction
from services.payment_refunds import refund_order
from services.settlement_parts import (
    HOLD_GONE,
    LATE_PAYMENT_REASON,
    VANISHED_REASON,
    WINDOW_ENDED_REASON,
    SettlementParts,
    SettlementUnavailable,
    reload_in,
)

log = logging.getLogger(__name__)
NOTICE_OF_UNPAID_ENDING = {
    OrderAction.FAIL_PAYMENT: NoticeKind.PAYMENT_FAILED,
    OrderAction.EXPIRE: NoticeKind.ORDER_EXPIRED,
}


async def apply_payment_intent(
    parts: SettlementParts, order: OrderRecord, intent: PaymentIntentState
) -> OrderRecord:
    """Settle the order by what Stripe says of its PaymentIntent; a pending one waits."""
    if intent.succeeded:
        await payment_succeeded(parts, order)
    elif intent.declined and order.status is OrderStatus.PENDING_PAYMENT:
        await payment_failed(parts, order, "the payment was declined")
    elif intent.cancelled and order.status is OrderStatus.PENDING_PAYMENT:
        await expire(parts, order)
    return await parts.reloaded(order)


async def payment_succeeded(parts: SettlementParts, order: OrderRecord) -> None:
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        await mark_paid(connection, order_id=order.order_id, now_ms=parts.clock())
        order = await reload_in(connection, order)
    if order.status in ENDED_UNPAID_ORDER_STATUSES:
        await refund_order(parts, order, RefundKind.LATE_PAYMENT, LATE_PAYMENT_REASON)
    elif order.status is OrderStatus.PAID:
        await fulfil(parts, order)


async def fulfil(parts: SettlementParts, order: OrderRecord) -> None:
    """Sell the hold in the inventory, then issue the tickets, mints, ledger and notice."""
    hold_id, payment = order.paid_through()
    converted = await parts.inventory(
        order.event_id,
        ConvertHold(
            hold_id=str(hold_id),
            new_order_id=str(order.order_id),
            idempotency_key=f"convert-{order.order_id}",
        ),
    )
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        live_sale = await sale_is_live(connection, order.order_id)
    if isinstance(converted, Rejected) and not live_sale:
        if converted.reason in HOLD_GONE:
            await refund_order(parts, order, RefundKind.LATE_PAYMENT, LATE_PAYMENT_REASON)
            return
        raise SettlementUnavailable(f"the sale could not be recorded: {converted.message}")
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        hold = await load_hold(connection, event_id=order.event_id, hold_id=hold_id)
        assert hold is not None, "an order's hold exists"
        if not await mark_fulfilled(connection, order.order_id):
            return
        names = await load_event_names(connection, order.event_id)
        event_number = event_number_of(order.order_id)
        assert event_number is not None, "order ids carry their event's number"
        tickets = await issue_tickets(
            connection,
            event_id=order.event_id,
            order_id=order.order_id,
            owner_user_id=order.user_id,
            items=hold.items,
            seats=hold.seats,
            new_ticket_id=lambda: uuid.UUID(mint_located_id(event_number)),
        )
        price = price_order(order.subtotal_cents)
        assert price.total_cents == order.total_cents, "the order was priced by the same rule"
        await record_ledger_entries(
            connection,
            entries=sale_entries(price),
            currency=order.currency,
            order_id=order.order_id,
            payment_id=payment.payment_id,
        )
        await write_outbox(
            connection,
            [
                *mint_requests(order, names, tickets),
                order_notice(NoticeKind.ORDER_CONFIRMED, order, names, tickets=tickets),
            ],
        )


async def payment_failed(parts: SettlementParts, order: OrderRecord, reason: str) -> None:
    await cancel_unpaid(parts, order, OrderAction.FAIL_PAYMENT, reason)


async def expire(parts: SettlementParts, order: OrderRecord) -> None:
    await cancel_unpaid(parts, order, OrderAction.EXPIRE, WINDOW_ENDED_REASON)


async def cancel_unpaid(
    parts: SettlementParts, order: OrderRecord, ending: OrderAction, reason: str
) -> None:
    """Cancel the PaymentIntent and end the order; a payment that succeeded meanwhile wins."""
    payment_intent_id = order.paid_through()[1].payment_intent_id
    if payment_intent_id is not None:
        intent = await parts.stripe.cancel_payment_intent(
            payment_intent_id,
            idempotency_key=f"order-{order.order_id}-cancel",
        )
        if intent.succeeded:
            await payment_succeeded(parts, order)
            return
    await end_unpaid(parts, order, ending, reason)


async def payment_intent_vanished(
    parts: SettlementParts, order: OrderRecord, ending: OrderAction
) -> None:
    """No money moves through a PaymentIntent Stripe no longer has: the unpaid order ends,
    its hold is released, and the operator hears of it once."""
    if await end_unpaid(parts, order, ending, VANISHED_REASON):
        log.error(
            "an unpaid order's PaymentIntent no longer exists at Stripe: the order has ended",
            extra={
                "order_id": str(order.order_id),
                "payment_intent_id": order.paid_through()[1].payment_intent_id,
                "status": order_status_after(ending),
            },
        )


async def end_unpaid(
    parts: SettlementParts, order: OrderRecord, ending: OrderAction, reason: str
) -> bool:
    """End an unpaid order and release its hold; whether this call ended it."""
    kind = NOTICE_OF_UNPAID_ENDING[ending]
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        names = await load_event_names(connection, order.event_id)
        ended = await end_unpaid_order(
            connection,
            order_id=order.order_id,
            ending=ending,
            reason=reason,
            outbox=[order_notice(kind, order, names, reason=reason)],
        )
    if ended:
        await release_hold(parts, order)
    return ended


async def release_hold(parts: SettlementParts, order: OrderRecord) -> None:
    """Give the hold's inventory back now; if the actor cannot answer, its expiry will."""
    released = await parts.inventory(
        order.event_id,
        ReleaseHold(
            hold_id=str(order.paid_through()[0]),
            fan_id=order.user_id,
            idempotency_key=f"release-{order.order_id}",
        ),
    )
    if isinstance(released, Rejected) and released.reason not in HOLD_GONE:
        log.warning(
            "the hold of an ended order stays until it expires",
            extra={"order_id": str(order.order_id), "reason": released.reason},
        )
