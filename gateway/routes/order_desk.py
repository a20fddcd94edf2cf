"""The service desk over HTTP (API.md v1.1): finding any order of the venue's tenant, reading an
order's history, and sending its confirmation again.

Door staff, managers and admins use it, inside their own tenant: every read runs in the caller's
tenant transaction, so another tenant's orders are never found, and another tenant's order id is
NOT_FOUND, like none. A search's `q` is read as one kind of key: an order id (a UUID), an email
(it holds `@`; matched whole, in any case), a seat (`101-A-7`), else the start of the buyer's
name (in any case).
"""

import re
import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import desk_limits
from engine.order_lifecycle import OrderStatus
from gateway.auth import CONTROL_CHARACTERS, Principal
from gateway.canonical_ids import canonical_uuid
from gateway.cursors import decode_order_position, encode_order_position, page_limit
from gateway.desk_schemas import (
    DeskOrderList,
    DeskOrderView,
    HistoryEntryView,
    OrderHistoryView,
    ResendBody,
    ResendView,
)
from gateway.errors import ApiError, ErrorCode, refusals_answered
from gateway.exchange import (
    answer_once,
    authenticate,
    decode_body,
    invalid,
    json_response,
    path_id,
    read_body,
)
from gateway.routes.orders import ORDER_READER_ROLES, order_view_with
from gateway.schemas import format_moment
from gateway.state import gateway_state
from persistence.event_details import EventDetails
from persistence.order_history import load_order_history
from persistence.order_search import (
    ByEmail,
    ByNamePrefix,
    ByOrderId,
    BySeat,
    OrderFilter,
    OrderMatch,
    OrderPosition,
    find_order_page,
)
from persistence.orders import OrderRecord, load_orders
from persistence.refunds import RefundRecord, load_refunds_of_orders
from persistence.tenancy import tenant_transaction
from persistence.tickets import TicketRecord, load_tickets_of_orders
from services.confirmation_resend import resend_confirmation

router = APIRouter()
RESEND_DECODER = msgspec.json.Decoder(ResendBody)
SEAT_LABEL = re.compile(r"[A-Za-z0-9]{1,20}-[A-Za-z0-9]{1,20}-[1-9][0-9]{0,8}")
MICROSECONDS_PER_MILLISECOND = 1_000


def order_match(text: str | None) -> OrderMatch:
    """What `q` names: nothing (every order), an order id, an email, a seat or a name's start."""
    if text is None:
        return None
    if len(text) > desk_limits.ORDER_SEARCH_CHARACTERS_MAX or CONTROL_CHARACTERS.search(text):
        raise invalid(
            f"q is up to {desk_limits.ORDER_SEARCH_CHARACTERS_MAX} characters of plain text",
            parameter="q",
        )
    key = text.strip()
    if not key:
        return None
    order_id = canonical_uuid(key)
    if order_id is not None:
        return ByOrderId(order_id=order_id)
    if "@" in key:
        return ByEmail(email=key)
    if SEAT_LABEL.fullmatch(key):
        return BySeat(label=key)
    return ByNamePrefix(prefix=key)


def order_filter(request: Request) -> OrderFilter:
    query = request.query_params
    event_text, status_text = query.get("event_id"), query.get("status")
    event_id = None if event_text is None else canonical_uuid(event_text)
    if event_text is not None and event_id is None:
        raise invalid("event_id is an event's id", parameter="event_id")
    if status_text is not None and status_text not in set(OrderStatus):
        raise invalid("status is an order status", parameter="status", statuses=list(OrderStatus))
    return OrderFilter(match=order_match(query.get("q")), event_id=event_id, status=status_text)


def desk_view(
    order: OrderRecord, tickets: list[TicketRecord], refunds: list[RefundRecord]
) -> DeskOrderView:
    view = order_view_with(order, tickets, refunds)
    return DeskOrderView(**msgspec.structs.asdict(view), email=order.contact_email)


@router.get("/v1/venue/orders")
async def search_orders(request: Request) -> Response:
    principal = await authenticate(request, *ORDER_READER_ROLES)
    query = request.query_params
    limit = page_limit(
        query.get("limit"),
        default=desk_limits.ORDERS_LISTED_DEFAULT,
        maximum=desk_limits.ORDERS_LISTED_MAX,
    )
    cursor = query.get("cursor")
    after: OrderPosition | None = None if cursor is None else decode_order_position(cursor)
    found = order_filter(request)
    async with tenant_transaction(
        gateway_state(request).database_pool, principal.tenant_id
    ) as connection:
        positions = await find_order_page(connection, found=found, after=after, limit=limit + 1)
        page = positions[:limit]
        order_ids = [position.order_id for position in page]
        orders = {order.order_id: order for order in await load_orders(connection, order_ids)}
        tickets = await load_tickets_of_orders(connection, order_ids)
        refunds = await load_refunds_of_orders(connection, order_ids)
    next_cursor = encode_order_position(page[-1]) if len(positions) > limit else None
    return json_response(
        DeskOrderList(
            orders=[
                desk_view(orders[order_id], tickets[order_id], refunds[order_id])
                for order_id in order_ids
            ],
            next_cursor=next_cursor,
        )
    )


async def venue_order(
    request: Request, principal: Principal, order_id: str
) -> tuple[EventDetails, OrderRecord]:
    """The order, when it is of the caller's tenant; any other is NOT_FOUND, like none."""
    state = gateway_state(request)
    located_id = path_id(order_id)
    details: EventDetails | None = await state.catalog.details_of_located_id(located_id)
    if details is not None and details.location.tenant_id == principal.tenant_id:
        order = await state.settlement.order(details.location.tenant_id, located_id)
        if order is not None:
            return details, order
    raise ApiError(ErrorCode.NOT_FOUND, message="no such order")


@router.get("/v1/venue/orders/{order_id}/history")
async def read_order_history(request: Request, order_id: str) -> Response:
    principal = await authenticate(request, *ORDER_READER_ROLES)
    _, order = await venue_order(request, principal, order_id)
    async with tenant_transaction(
        gateway_state(request).database_pool, order.tenant_id
    ) as connection:
        entries = await load_order_history(
            connection, order_id=order.order_id, limit=desk_limits.ORDER_HISTORY_ENTRIES_MAX
        )
    return json_response(
        OrderHistoryView(
            order_id=str(order.order_id),
            history=[
                HistoryEntryView(
                    at=format_moment(entry.at_us // MICROSECONDS_PER_MILLISECOND),
                    kind=entry.kind,
                    actor=entry.actor,
                    details=entry.details,
                )
                for entry in entries
            ],
        )
    )


@router.post("/v1/venue/orders/{order_id}/resend")
async def resend_order_confirmation(request: Request, order_id: str) -> Response:
    principal = await authenticate(request, *ORDER_READER_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        _, order = await venue_order(request, principal, order_id)
        if raw_body.strip():
            decode_body(raw_body, RESEND_DECODER)
        resend_id = uuid.uuid4()
        with refusals_answered():
            await resend_confirmation(
                gateway_state(request).database_pool, order=order, resend_id=resend_id
            )
        assert order.contact_email is not None, "a confirmation is only sent to an address"
        view = ResendView(
            order_id=str(order.order_id), resend_id=str(resend_id), email=order.contact_email
        )
        return json_response(view, status=202)

    return await answer_once(request, principal, raw_body, produce)
