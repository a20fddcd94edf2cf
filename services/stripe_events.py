"""Stripe's webhook events, applied by the payment workers through one dispatch table:
`STRIPE_EVENT_HANDLERS` maps an event type to the handler that applies it, True when it changed
something. An event type without a handler is acknowledged and ignored. A new kind of event is
one new entry, in a module of its own.

Each handler finds its own order. A PaymentIntent's event names its tenant and order in the
metadata only we write; a charge's or a dispute's names its PaymentIntent, which is read from
Stripe (services/stripe_event_orders.py). An event that names no order of ours applies as nothing,
so Stripe stops resending it. Handlers keep the event under its order in the fenced webhook inbox,
so it is applied to the order once, and must be repeatable, since an event left half-way is
applied again.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from payments.stripe_api import payment_intent_state
from persistence.tenancy import tenant_transaction
from persistence.webhook_inbox import mark_webhook_processed
from services.charge_refund_events import apply_charge_refunded
from services.dispute_events import (
    apply_dispute_closed,
    apply_dispute_created,
    apply_dispute_updated,
)
from services.payment_outcomes import apply_payment_intent
from services.settlement_parts import SettlementParts
from services.stripe_event_orders import order_of_payment_intent, take_event_once

StripeEventHandler = Callable[[SettlementParts, dict[str, Any]], Awaitable[bool]]


async def apply_payment_intent_event(parts: SettlementParts, event: dict[str, Any]) -> bool:
    """Settle the order by what the event says of its PaymentIntent."""
    intent = payment_intent_state(event["data"]["object"])
    order = await order_of_payment_intent(parts, intent)
    if order is None:
        return False
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        if not await take_event_once(connection, order, event):
            return False
    await apply_payment_intent(parts, order, intent)
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        await mark_webhook_processed(connection, str(event["id"]))
    return True


STRIPE_EVENT_HANDLERS: dict[str, StripeEventHandler] = {
    "payment_intent.succeeded": apply_payment_intent_event,
    "payment_intent.payment_failed": apply_payment_intent_event,
    "payment_intent.canceled": apply_payment_intent_event,
    "charge.refunded": apply_charge_refunded,
    "charge.dispute.created": apply_dispute_created,
    "charge.dispute.updated": apply_dispute_updated,
    "charge.dispute.closed": apply_dispute_closed,
}
