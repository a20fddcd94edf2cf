"""Orders over HTTP: checkout of a hold, reading an order with its tickets, and the venue's refund.

Order ids carry their event's number, like hold ids, so an order leads to its event and tenant;
every read and write then runs in that tenant's transaction. An order is seen by its fan and by
the venue roles of its event's tenant (door staff read it, only managers and admins refund it);
to anyone else it does not exist.
"""

import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from engine.hold_lifecycle import HoldStatus
from engine.order_lifecycle import OrderStatus
from engine.refund_lifecycle import RefundStatus
from gateway.auth import Principal, Role
from gateway.canonical_ids import canonical_uuid
from gateway.errors import ApiError, ErrorCode, refusals_answered
from gateway.exchange import (
    VENUE_ROLES,
    answer_once,
    authenticate,
    decode_body,
    json_response,
    path_id,
    read_body,
)
from gateway.order_schemas import (
    CheckoutView,
    MintView,
    OrderView,
    PaymentView,
    RefundBody,
    RefundView,
    TicketView,
)
from gateway.routes.holds import fans_hold
from gateway.schemas import format_moment
from gateway.state import gateway_state
from persistence.event_details import EventDetails
from persistence.orders import OrderRecord
from persistence.refunds import RefundRecord, load_order_refunds
from persistence.tenancy import tenant_transaction
from persistence.tickets import TicketRecord, load_order_tickets
from services.refunds import open_venue_refund

router = APIRouter()
REFUND_DECODER = msgspec.json.Decoder(RefundBody)
ORDER_READER_ROLES = (Role.VENUE_STAFF, *VENUE_ROLES)


def checkout_view(order: OrderRecord) -> CheckoutView:
    _, payment = order.paid_through()
    assert payment.payment_intent_id is not None and payment.client_secret is not None
    return CheckoutView(
        order_id=str(order.order_id),
        status=order.status,  # type: ignore[arg-type]
        subtotal_cents=order.subtotal_cents,
        fees_cents=order.fees_cents,
        total_cents=order.total_cents,
        currency=order.currency,
        expires_at=format_moment(order.expires_at_ms),
        payment=PaymentView(
            provider="stripe",
            payment_intent_id=payment.payment_intent_id,
            client_secret=payment.client_secret,
        ),
    )


def ticket_view(ticket: TicketRecord) -> TicketView:
    return TicketView(
        ticket_id=str(ticket.ticket_id),
        event_id=str(ticket.event_id),
        order_id=str(ticket.order_id),
        ticket_type_id=str(ticket.ticket_type_id),
        seat=ticket.seat,
        status=ticket.status,  # type: ignore[arg-type]
        issued_at=format_moment(ticket.issued_at_ms),
        mint=MintView(
            status=ticket.mint.status,  # type: ignore[arg-type]
            mint_address=ticket.mint.mint_address,
            signature=ticket.mint.signature,
        ),
        status_reason=ticket.status_reason,
        checked_in_at=None
        if ticket.checked_in_at_ms is None
        else format_moment(ticket.checked_in_at_ms),
    )


def refund_view(refund: RefundRecord) -> RefundView:
    return RefundView(
        refund_id=str(refund.refund_id),
        status=refund.status,  # type: ignore[arg-type]
        amount_cents=refund.amount_cents,
        ticket_ids=[str(ticket_id) for ticket_id in refund.ticket_ids],
        refund_fees=refund.refund_fees,
        created_at=format_moment(refund.created_at_ms),
    )


async def order_view(request: Request, order: OrderRecord) -> OrderView:
    async with tenant_transaction(
        gateway_state(request).database_pool, order.tenant_id
    ) as connection:
        tickets = await load_order_tickets(connection, order.order_id)
        refunds = await load_order_refunds(connection, order.order_id)
    return order_view_with(order, tickets, refunds)


def order_view_with(
    order: OrderRecord, tickets: list[TicketRecord], refunds: list[RefundRecord]
) -> OrderView:
    return OrderView(
        order_id=str(order.order_id),
        event_id=str(order.event_id),
        status=order.status,  # type: ignore[arg-type]
        subtotal_cents=order.subtotal_cents,
        fees_cents=order.fees_cents,
        total_cents=order.total_cents,
        currency=order.currency,
        expires_at=format_moment(order.expires_at_ms),
        created_at=format_moment(order.created_at_ms),
        paid_at=None if order.paid_at_ms is None else format_moment(order.paid_at_ms),
        tickets=[ticket_view(ticket) for ticket in tickets],
        refunds=[refund_view(refund) for refund in refunds],
        refunded_cents=sum(
            refund.amount_cents for refund in refunds if refund.status is RefundStatus.SUCCEEDED
        ),
    )


def refund_ticket_ids(texts: list[str]) -> list[uuid.UUID]:
    """The tickets a refund names; text that is no ticket id is VALIDATION_ERROR."""
    ticket_ids = [canonical_uuid(text) for text in texts]
    unreadable = [
        text for text, ticket_id in zip(texts, ticket_ids, strict=True) if ticket_id is None
    ]
    if unreadable:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            message="some ticket ids are not ticket ids",
            details={"ticket_ids": unreadable},
        )
    return [ticket_id for ticket_id in ticket_ids if ticket_id is not None]


def may_read(principal: Principal, details: EventDetails, order: OrderRecord) -> bool:
    if order.user_id == principal.caller:
        return True
    return principal.tenant_id == details.location.tenant_id and principal.has_any_role(
        *ORDER_READER_ROLES
    )


async def located_order(
    request: Request, principal: Principal, order_id: str
) -> tuple[EventDetails, OrderRecord]:
    """The order, when the caller may see it; any other order is NOT_FOUND, like none."""
    state = gateway_state(request)
    located_id = path_id(order_id)
    details: EventDetails | None = await state.catalog.details_of_located_id(located_id)
    if details is not None:
        settlement = state.settlement
        order = await settlement.order(details.location.tenant_id, located_id)
        if order is not None and may_read(principal, details, order):
            return details, order
    raise ApiError(ErrorCode.NOT_FOUND, message="no such order")


@router.post("/v1/holds/{hold_id}/checkout")
async def checkout(request: Request, hold_id: str) -> Response:
    principal = await authenticate(request)
    raw_body = await read_body(request)

    async def produce() -> Response:
        details, hold = await fans_hold(request, principal, hold_id)
        if details.cancelled:
            raise ApiError(ErrorCode.EVENT_CANCELLED, message="this event was cancelled")
        if hold.status is not HoldStatus.ACTIVE:
            raise ApiError(ErrorCode.HOLD_EXPIRED, message=f"the hold is {hold.status}")
        settlement = gateway_state(request).settlement
        order = await settlement.checkout(
            event=details, hold=hold, contact_email=principal.email, contact_name=principal.name
        )
        if order.status is not OrderStatus.PENDING_PAYMENT:
            raise ApiError(
                ErrorCode.HOLD_EXPIRED,
                message=f"the hold's order is {order.status}",
                details={"order_id": str(order.order_id)},
            )
        return json_response(checkout_view(order), status=201)

    return await answer_once(request, principal, raw_body, produce)


@router.get("/v1/orders/{order_id}")
async def read_order(request: Request, order_id: str) -> Response:
    principal = await authenticate(request)
    _, order = await located_order(request, principal, order_id)
    return json_response(await order_view(request, order))


@router.post("/v1/orders/{order_id}/refund")
async def refund(request: Request, order_id: str) -> Response:
    """The refund is opened here and run by a payment worker: 200 with the order once it is
    done, 202 with the order (its refund pending) when it takes longer, finished in background."""
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body, REFUND_DECODER)
        details, order = await located_order(request, principal, order_id)
        ticket_ids = None if body.ticket_ids is None else refund_ticket_ids(body.ticket_ids)
        state = gateway_state(request)
        with refusals_answered():
            refund = await open_venue_refund(
                state.database_pool,
                order=order,
                order_tenant_id=details.location.tenant_id,
                venue_tenant_id=principal.tenant_id,
                reason=body.reason,
                ticket_ids=ticket_ids,
                refund_fees=body.refund_fees,
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
