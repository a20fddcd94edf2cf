"""Payments arriving: Stripe's webhooks, and the development pay endpoint that stands in for a
fan's browser confirming a PaymentIntent with Stripe.js.

A webhook is verified (`Stripe-Signature`, 300 s tolerance) and kept once, by its event id, in the
Stripe event inbox before it is answered; the payment workers apply it (services/stripe_events.py
has the table of types). The route asks a worker to apply it at once and waits a little for the
answer; when the worker is slow or unreachable the payment reconciler's rounds apply it. An event
of a type the table lacks is acknowledged and ignored, so Stripe stops resending it.
"""

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
from persistence.stripe_event_inbox import keep_stripe_event
from services.stripe_events import STRIPE_EVENT_HANDLERS

router = APIRouter()
development_router = APIRouter()
PAY_DECODER = msgspec.json.Decoder(PayBody)
SIGNATURE_HEADER = "stripe-signature"
IGNORED = WebhookAnswer(received=True, applied=False)


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
    """`applied` says whether the event changed something by the time of the answer; an event
    kept but not applied yet is applied by the payment workers later."""
    state = gateway_state(request)
    payload = await read_body(request)
    event = verified_event(request, payload)
    if event.type not in STRIPE_EVENT_HANDLERS:
        return json_response(IGNORED)
    async with state.database_pool.acquire() as connection:
        to_apply = await keep_stripe_event(
            connection, event_id=event.id, event_type=event.type, payload=payload.decode()
        )
    if not to_apply:
        return json_response(IGNORED)
    applied = await state.payments.apply_stripe_event(
        event.id, timeout_s=limits.STRIPE_EVENT_WAIT_MS / limits.MILLISECONDS_PER_SECOND
    )
    return json_response(WebhookAnswer(received=True, applied=applied is True))


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
