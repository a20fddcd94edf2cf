"""Payments arriving: Stripe's webhooks, and the development pay endpoint that stands in for a
fan's browser confirming a PaymentIntent with Stripe.js.

A webhook is verified (`Stripe-Signature`, 300 s tolerance), stored once in the inbox by its event
id and applied once through services/stripe_events.py's table; its order is named by what only we
write into Stripe (a PaymentIntent's metadata). An event of a type the table lacks, or that names
no order of ours, is acknowledged and ignored, so Stripe stops resending it. Events about money
moved outside the service (a refund made in Stripe's dashboard, a chargeback) go to their handlers
in `OUTSIDE_EVENT_HANDLERS`, which find the order through the PaymentIntent the same way.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import stripe
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from engine.order_lifecycle import OrderStatus
from gateway.errors import ApiError, ErrorCode
from gateway.exchange import authenticate, decode_body, json_response, read_body
from gateway.order_schemas import PayBody, WebhookAnswer
from gateway.routes.orders import located_order, order_view
from gateway.state import gateway_state
from payments.stripe_api import TEST_PAYMENT_METHODS
from persistence.tenancy import tenant_transaction
from persistence.webhook_inbox import mark_webhook_processed, record_webhook_event
from services.charge_refund_events import apply_charge_refunded
from services.dispute_events import (
    apply_dispute_closed,
    apply_dispute_created,
    apply_dispute_updated,
)
from services.settlement_parts import SettlementParts
from services.stripe_events import STRIPE_EVENT_HANDLERS

router = APIRouter()
development_router = APIRouter()
PAY_DECODER = msgspec.json.Decoder(PayBody)
SIGNATURE_HEADER = "stripe-signature"
IGNORED = WebhookAnswer(received=True, applied=False)
OutsideEventHandler = Callable[[SettlementParts, dict[str, Any]], Awaitable[bool]]
OUTSIDE_EVENT_HANDLERS: dict[str, OutsideEventHandler] = {
    "charge.refunded": apply_charge_refunded,
    "charge.dispute.created": apply_dispute_created,
    "charge.dispute.updated": apply_dispute_updated,
    "charge.dispute.closed": apply_dispute_closed,
}


def verified_event(request: Request, payload: bytes) -> stripe.Event:
    secret = gateway_state(request).stripe_webhook_secret
    try:
        return stripe.Webhook.construct_event(
            payload,
            request.headers.get(SIGNATURE_HEADER),
            secret,
            tolerance=limits.STRIPE_WEBHOOK_TOLERANCE_MS // limits.MILLISECONDS_PER_SECOND,
        )
    except (ValueError, stripe.SignatureVerificationError):
        raise ApiError(
            ErrorCode.BAD_SIGNATURE,
            message="the Stripe-Signature header does not verify, or its timestamp is too old",
        ) from None


@router.post("/v1/webhooks/stripe")
async def stripe_webhook(request: Request) -> Response:
    state = gateway_state(request)
    payload = await read_body(request)
    event = verified_event(request, payload)
    outside_handler = OUTSIDE_EVENT_HANDLERS.get(event.type)
    if outside_handler is not None:
        applied = await outside_handler(state.settlement.parts, event.to_dict())
        return json_response(WebhookAnswer(received=True, applied=applied))
    handler = STRIPE_EVENT_HANDLERS.get(event.type)
    if handler is None:
        return json_response(IGNORED)
    event_object = event.data.object.to_dict()
    reference = handler.order_of(event_object)
    if reference is None:
        return json_response(IGNORED)
    tenant_id = reference.tenant_id
    settlement = state.settlement
    order = await settlement.order(tenant_id, reference.order_id)
    if order is None or not handler.concerns(order, event_object):
        return json_response(IGNORED)
    pool = state.database_pool
    async with tenant_transaction(pool, tenant_id) as connection:
        to_apply = await record_webhook_event(
            connection,
            stripe_event_id=event.id,
            event_type=event.type,
            payload=payload.decode(),
            order_id=order.order_id,
        )
    if not to_apply:
        return json_response(IGNORED)
    await handler.apply(settlement, order, event_object)
    async with tenant_transaction(pool, tenant_id) as connection:
        await mark_webhook_processed(connection, event.id)
    return json_response(WebhookAnswer(received=True, applied=True))


@development_router.post("/v1/dev/orders/{order_id}/pay")
async def pay_order(request: Request, order_id: str) -> Response:
    """Confirm the order's PaymentIntent with a Stripe test card (absent in production)."""
    principal = await authenticate(request)
    body = decode_body(await read_body(request), PAY_DECODER)
    if body.card not in TEST_PAYMENT_METHODS:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            message="use one of Stripe's test cards",
            details={"cards": sorted(TEST_PAYMENT_METHODS)},
        )
    _, order = await located_order(request, principal, order_id)
    if order.user_id != principal.caller:
        raise ApiError(ErrorCode.NOT_FOUND, message="no such order")
    settlement = gateway_state(request).settlement
    order = await settlement.pay_with_test_card(order, body.card)
    if order.status is OrderStatus.PAYMENT_FAILED:
        raise ApiError(ErrorCode.PAYMENT_FAILED, details={"order_id": str(order.order_id)})
    if order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
        raise ApiError(
            ErrorCode.HOLD_EXPIRED,
            message=f"the order is {order.status}",
            details={"order_id": str(order.order_id)},
        )
    return json_response(await order_view(request, order))
