"""Cancelling and postponing an event (venue_manager, admin of its tenant), and a fan's own refund
of a postponed event's order.

A cancellation goes through the event's InventoryActor: in one commit its live holds are
released, the event becomes `cancelled` and the outbox carries `sale.cancelled`, from which the
payment workers refund every paid order in the background (services/cancellation_refunds.py).
A postponement moves the dates and opens the fans' refund window; it never touches the sale.
Until `refund_until` the owner of a paid order may ask for it to be refunded in full: the refund
is opened through the refund kernel and run by the payment pool at once, like the venue's.
"""

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from engine.commands import CancelSale
from engine.rejections import Rejected
from gateway.cancellation_schemas import CancelEventBody, PostponeEventBody, RefundRequestBody
from gateway.errors import ApiError, ErrorCode, refusals_answered, rejection_error
from gateway.event_views import venue_event_view
from gateway.exchange import (
    VENUE_ROLES,
    answer_once,
    authenticate,
    decode_body,
    invalid,
    json_response,
    path_id,
    read_body,
)
from gateway.routes.orders import located_order, order_view
from gateway.routes.venue import tenant_event
from gateway.state import gateway_state
from persistence.tenancy import tenant_transaction
from services.fan_refunds import check_window, open_fan_refund
from services.postponements import milliseconds, postpone_event

router = APIRouter()
CANCEL_DECODER = msgspec.json.Decoder(CancelEventBody)
POSTPONE_DECODER = msgspec.json.Decoder(PostponeEventBody)
REFUND_REQUEST_DECODER = msgspec.json.Decoder(RefundRequestBody)


async def refreshed_view(request: Request, event_id: str, status: int) -> Response:
    """The event as it is now, read afresh by this process."""
    state = gateway_state(request)
    located = path_id(event_id)
    state.catalog.forget(located)
    state.stats_board.forget(located)
    details = await state.catalog.details(located)
    assert details is not None
    snapshot = await state.stats_board.inventory(details)
    return json_response(venue_event_view(details, snapshot, state.clock()), status=status)


@router.post("/v1/venue/events/{event_id}/cancel")
async def cancel_event(request: Request, event_id: str) -> Response:
    """202: the sale has stopped; the refunds run on. Cancelling again answers the same."""
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body, CANCEL_DECODER)
        details = await tenant_event(request, principal, event_id)
        client = gateway_state(request).clients.inventory(details.location.event_id)
        result = await client.execute(CancelSale(reason=body.reason))
        if isinstance(result, Rejected):
            raise rejection_error(result)
        return await refreshed_view(request, event_id, 202)

    return await answer_once(request, principal, raw_body, produce)


@router.post("/v1/venue/events/{event_id}/postpone")
async def postpone(request: Request, event_id: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body, POSTPONE_DECODER)
        state = gateway_state(request)
        if body.ends_at < body.starts_at:
            raise invalid("ends_at is before starts_at", field="ends_at")
        if milliseconds(body.refund_until) <= state.clock():
            raise invalid("refund_until must be in the future", field="refund_until")
        state.catalog.forget(path_id(event_id))
        details = await tenant_event(request, principal, event_id)
        location = details.location
        async with tenant_transaction(state.database_pool, location.tenant_id) as connection:
            told = await postpone_event(
                connection,
                tenant_id=location.tenant_id,
                event_id=location.event_id,
                starts_at=body.starts_at,
                ends_at=body.ends_at,
                refund_until=body.refund_until,
            )
        if told is None:
            raise ApiError(ErrorCode.EVENT_CANCELLED, message="a cancelled event is not postponed")
        return await refreshed_view(request, event_id, 200)

    return await answer_once(request, principal, raw_body, produce)


@router.post("/v1/orders/{order_id}/refund-request")
async def request_own_refund(request: Request, order_id: str) -> Response:
    """200 with the order refunded in full once the payment pool ran the refund, 202 with it
    pending when that takes longer (it finishes in the background); the owner's alone."""
    principal = await authenticate(request)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = (
            decode_body(raw_body, REFUND_REQUEST_DECODER)
            if raw_body.strip()
            else RefundRequestBody()
        )
        details, order = await located_order(request, principal, order_id)
        if order.user_id != principal.caller:
            raise ApiError(ErrorCode.NOT_FOUND, message="no such order")
        state = gateway_state(request)
        state.catalog.forget(details.location.event_id)
        current = await state.catalog.details(details.location.event_id)
        assert current is not None, "events are never deleted"
        with refusals_answered():
            check_window(
                refund_until_ms=current.refund_until_ms,
                cancelled=current.cancelled,
                now_ms=state.clock(),
            )
            refund = await open_fan_refund(
                state.database_pool, order=order, tenant_id=order.tenant_id, reason=body.reason
            )
        finished = refund.is_finished or await state.payments.run_refund(
            tenant_id=order.tenant_id,
            order_id=order.order_id,
            refund_id=refund.refund_id,
            timeout_s=limits.VENUE_REFUND_WAIT_MS / limits.MILLISECONDS_PER_SECOND,
        )
        refunded = await state.settlement.order(order.tenant_id, order.order_id)
        assert refunded is not None, "orders are never deleted"
        return json_response(await order_view(request, refunded), status=200 if finished else 202)

    return await answer_once(request, principal, raw_body, produce)
