"""A venue's stock controls over HTTP (venue_manager, admin): block and unblock seats, withhold
and release general units, add general capacity, set a price; each through the event's
InventoryActor, durable before the answer, which shows the ticket type's figures.

Fenced to the caller's tenant; a retry under the same Idempotency-Key answers the first response,
and every command carries an engine key (the caller's, scoped, or one of the request's own), so
the client may send it again to a restarted actor and it is still applied once.
"""

import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.rejections import Rejected
from gateway.errors import rejection_error
from gateway.event_views import shown_price_cents
from gateway.exchange import (
    VENUE_ROLES,
    answer_once,
    authenticate,
    decode_body,
    idempotency_key,
    json_response,
    read_body,
)
from gateway.routes.holds import engine_key
from gateway.routes.venue import tenant_event
from gateway.state import gateway_state
from gateway.stock_commands import stock_command
from gateway.stock_schemas import StockControlBody, StockFiguresView

router = APIRouter()
STOCK_DECODER = msgspec.json.Decoder(StockControlBody)


@router.post("/v1/venue/events/{event_id}/inventory")
async def control_stock(request: Request, event_id: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    details = await tenant_event(request, principal, event_id)
    raw_body = await read_body(request)

    async def produce() -> Response:
        state = gateway_state(request)
        body = decode_body(raw_body, STOCK_DECODER)
        # Without the caller's key, one of this request's own: the command may then go to the
        # actor again after a restart without being applied twice.
        key = engine_key(principal, "stock", idempotency_key(request) or f"once-{uuid.uuid4()}")
        command, ticket_type_id = stock_command(details, body, key)
        location = details.location
        result = await state.clients.inventory(location.event_id).execute(command)
        if isinstance(result, Rejected):
            raise rejection_error(result)
        state.catalog.forget(location.event_id)
        state.stats_board.forget(location.event_id)
        changed = await tenant_event(request, principal, event_id)
        snapshot = await state.stats_board.inventory(changed)
        counts = next(c for c in snapshot.counts if c.ticket_type_id == ticket_type_id)
        ticket_type = next(t for t in changed.ticket_types if t.ticket_type_id == ticket_type_id)
        figures = StockFiguresView(
            ticket_type_id=ticket_type_id,
            key=ticket_type.key,
            capacity=counts.capacity,
            sold=counts.sold,
            held=counts.held,
            blocked=counts.withheld,
            available=counts.available,
            withheld=counts.withheld,
            price_cents=shown_price_cents(ticket_type, counts, state.clock()),
        )
        return json_response(figures)

    return await answer_once(request, principal, raw_body, produce)
