"""Checkout: a hold becomes an order with exactly one PaymentIntent, and the development pay step.

Checkout extends the hold through the payment window, creates the order (one per hold) and its
PaymentIntent under the idempotency key stored with the order before Stripe is called, so a
repeated checkout finds the same order and the same PaymentIntent.
"""

import uuid

from engine.commands import ExtendHold
from engine.order_lifecycle import OrderStatus
from engine.outcomes import HoldView
from engine.pricing import price_order
from engine.rejections import Reason, Rejected
from payments.stripe_api import PaymentDeclined
from persistence.event_details import EventDetails
from persistence.hold_repository import StoredHold
from persistence.located_ids import mint_located_id
from persistence.orders import (
    NewOrder,
    OrderRecord,
    insert_order,
    load_order_of_hold,
    record_payment_intent,
)
from persistence.tenancy import tenant_transaction
from services.payment_outcomes import apply_payment_intent, payment_failed
from services.settlement_parts import SettlementParts, SettlementRefused


async def check_out(
    parts: SettlementParts,
    *,
    event: EventDetails,
    hold: StoredHold,
    contact_email: str | None,
    contact_name: str | None = None,
) -> OrderRecord:
    """The hold's order with its PaymentIntent, created now or found from an earlier call; the
    buyer's email and name are kept on it for their notices and the service desk."""
    tenant_id, event_id = event.location.tenant_id, event.location.event_id
    hold_id = uuid.UUID(hold.hold_id)
    async with tenant_transaction(parts.pool, tenant_id) as connection:
        order = await load_order_of_hold(connection, hold_id)
    if order is None:
        extended = await extend_for_checkout(parts, event_id, hold)
        price = price_order(extended.subtotal_cents)
        async with tenant_transaction(parts.pool, tenant_id) as connection:
            order = await insert_order(
                connection,
                NewOrder(
                    order_id=uuid.UUID(mint_located_id(event.location.event_number)),
                    tenant_id=tenant_id,
                    event_id=event_id,
                    hold_id=hold_id,
                    user_id=hold.fan_id,
                    currency=event.currency,
                    subtotal_cents=price.subtotal_cents,
                    fees_cents=price.fees_cents,
                    total_cents=price.total_cents,
                    expires_at_ms=extended.expires_at_ms,
                    contact_email=contact_email,
                    contact_name=contact_name,
                    items=extended.items,
                ),
                now_ms=parts.clock(),
            )
    return await with_payment_intent(parts, order)


async def extend_for_checkout(
    parts: SettlementParts, event_id: uuid.UUID, hold: StoredHold
) -> HoldView:
    """The hold kept through the payment window. A hold that Postgres still shows active but
    the actor no longer keeps has just expired: HOLD_EXPIRED, as for any ended hold."""
    try:
        extended = await parts.execute(
            event_id,
            ExtendHold(
                hold_id=hold.hold_id,
                fan_id=hold.fan_id,
                idempotency_key=f"checkout-{hold.hold_id}",
            ),
        )
    except SettlementRefused as refused:
        if refused.rejected.reason is not Reason.NOT_FOUND:
            raise
        raise SettlementRefused(
            Rejected(reason=Reason.HOLD_EXPIRED, message="the hold has expired")
        ) from refused
    assert isinstance(extended, HoldView), extended
    return extended


async def with_payment_intent(parts: SettlementParts, order: OrderRecord) -> OrderRecord:
    """Create the order's one PaymentIntent if it has none yet, with the stored key."""
    hold_id, payment = order.paid_through()
    if payment.payment_intent_id is not None:
        return order
    intent = await parts.stripe.create_payment_intent(
        amount_cents=order.total_cents,
        currency=order.currency,
        idempotency_key=payment.idempotency_key,
        metadata={
            "order_id": str(order.order_id),
            "event_id": str(order.event_id),
            "tenant_id": str(order.tenant_id),
            "hold_id": str(hold_id),
        },
    )
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        await record_payment_intent(
            connection,
            order_id=order.order_id,
            payment_intent_id=intent.payment_intent_id,
            client_secret=intent.client_secret,
        )
    return await parts.reloaded(order)


async def pay_with_test_card(
    parts: SettlementParts, order: OrderRecord, card_number: str
) -> OrderRecord:
    """Confirm the order's PaymentIntent with a Stripe test card, then settle the result.

    Raises PaymentDeclined when the card is declined (the order has then failed).
    """
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return order
    order = await with_payment_intent(parts, order)
    _, payment = order.paid_through()
    assert payment.payment_intent_id is not None
    try:
        intent = await parts.stripe.confirm_with_test_card(
            payment.payment_intent_id,
            card_number=card_number,
            idempotency_key=f"order-{order.order_id}-test-payment-{card_number}",
        )
    except PaymentDeclined as declined:
        await payment_failed(parts, order, f"the card was declined: {declined}")
        raise
    return await apply_payment_intent(parts, order, intent)
