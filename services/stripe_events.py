"""Stripe's webhook events, applied through one dispatch table: `STRIPE_EVENT_HANDLERS` maps an
event type to the handler that finds the order it concerns and applies it. An event type without
a handler is acknowledged and ignored. A new kind of event (a charge refunded at the dashboard, a
dispute) is one new entry, in a module of its own.

A handler's `order_of` reads only what we wrote into Stripe (the PaymentIntent's metadata names
its tenant and order); `concerns` checks the stored order is the one the event speaks of; `apply`
settles it, and must be repeatable, since the inbox applies again an event left half-way.
"""

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec

from payments.stripe_api import payment_intent_state
from persistence.orders import OrderRecord
from services.settlement import Settlement


class OrderReference(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: uuid.UUID
    order_id: uuid.UUID


class StripeEventHandler(msgspec.Struct, frozen=True, kw_only=True):
    order_of: Callable[[Mapping[str, Any]], OrderReference | None]
    concerns: Callable[[OrderRecord, Mapping[str, Any]], bool]
    apply: Callable[[Settlement, OrderRecord, Mapping[str, Any]], Awaitable[None]]


def metadata_uuid(metadata: Mapping[str, str], name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(metadata[name])
    except (KeyError, ValueError):
        return None


def order_of_payment_intent(event_object: Mapping[str, Any]) -> OrderReference | None:
    metadata = payment_intent_state(event_object).metadata
    tenant_id = metadata_uuid(metadata, "tenant_id")
    order_id = metadata_uuid(metadata, "order_id")
    if tenant_id is None or order_id is None:
        return None
    return OrderReference(tenant_id=tenant_id, order_id=order_id)


def is_orders_payment_intent(order: OrderRecord, event_object: Mapping[str, Any]) -> bool:
    if order.complimentary:
        return False
    stored = order.paid_through()[1].payment_intent_id
    return stored == payment_intent_state(event_object).payment_intent_id


async def apply_payment_intent(
    settlement: Settlement, order: OrderRecord, event_object: Mapping[str, Any]
) -> None:
    await settlement.apply_payment_intent(order, payment_intent_state(event_object))


PAYMENT_INTENT_HANDLER = StripeEventHandler(
    order_of=order_of_payment_intent,
    concerns=is_orders_payment_intent,
    apply=apply_payment_intent,
)

STRIPE_EVENT_HANDLERS: dict[str, StripeEventHandler] = {
    "payment_intent.succeeded": PAYMENT_INTENT_HANDLER,
    "payment_intent.payment_failed": PAYMENT_INTENT_HANDLER,
    "payment_intent.canceled": PAYMENT_INTENT_HANDLER,
}
