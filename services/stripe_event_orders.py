"""The order a Stripe event about a payment is for, named by its PaymentIntent's metadata.

Only we write a PaymentIntent's metadata (its tenant and order), so an event whose PaymentIntent
names no order of ours, or an order paid through another PaymentIntent, is none of ours: the
caller acknowledges and ignores it. Charges and disputes carry their PaymentIntent's id, and the
PaymentIntent itself is read from Stripe, so events from outside the service are matched too.
"""

import json
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from engine.order_lifecycle import OrderStatus
from payments.stripe_api import PaymentIntentMissing, PaymentIntentState
from persistence.orders import OrderRecord
from persistence.webhook_inbox import record_webhook_event
from services.payment_outcomes import apply_payment_intent
from services.settlement_parts import SettlementParts, SettlementUnavailable


def metadata_uuid(metadata: Mapping[str, str], name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(metadata[name])
    except (KeyError, ValueError):
        return None


def object_id(reference: object) -> str | None:
    """The id of a field that holds an object's id, or the object itself when expanded."""
    if isinstance(reference, Mapping):
        reference = reference.get("id")
    return reference if isinstance(reference, str) and reference else None


async def order_of_payment_intent(
    parts: SettlementParts, intent: PaymentIntentState
) -> OrderRecord | None:
    """The order this PaymentIntent's metadata names, if it pays through it; None when none of
    ours."""
    tenant_id = metadata_uuid(intent.metadata, "tenant_id")
    order_id = metadata_uuid(intent.metadata, "order_id")
    if tenant_id is None or order_id is None:
        return None
    order = await parts.order(tenant_id, order_id)
    if order is None or order.complimentary:
        return None
    if order.paid_through()[1].payment_intent_id != intent.payment_intent_id:
        return None
    return order


async def order_paid_through(
    parts: SettlementParts, payment_intent_id: str | None
) -> tuple[OrderRecord, PaymentIntentState] | None:
    """The order paid through this PaymentIntent, and the PaymentIntent as Stripe has it now;
    None when none of ours."""
    if payment_intent_id is None:
        return None
    try:
        intent = await parts.stripe.retrieve_payment_intent(payment_intent_id)
    except PaymentIntentMissing:
        return None
    order = await order_of_payment_intent(parts, intent)
    return None if order is None else (order, intent)


async def settled_order(
    parts: SettlementParts, order: OrderRecord, intent: PaymentIntentState
) -> OrderRecord:
    """The order once its payment is settled: news of its charge may come before the news of its
    payment, and its tickets exist before anything is done to them. SettlementUnavailable while
    they cannot be issued yet (Stripe sends the event again)."""
    if order.status is OrderStatus.PENDING_PAYMENT and intent.succeeded:
        order = await apply_payment_intent(parts, order, intent)
    if order.status is OrderStatus.PAID:
        raise SettlementUnavailable("the order's tickets are not issued yet")
    return order


async def take_event_once(
    connection: asyncpg.Connection, order: OrderRecord, event: dict[str, Any]
) -> bool:
    """Keep the event in the webhook inbox under its order, in the caller's tenant transaction;
    False when it was applied already."""
    return await record_webhook_event(
        connection,
        stripe_event_id=str(event["id"]),
        event_type=str(event["type"]),
        payload=json.dumps(event),
        order_id=order.order_id,
    )
