"""The venue's ticket tools over HTTP: comps (to a fan, or offered by email), reading any ticket
of its events, locking and unlocking a ticket, and reissuing a lost one.

Each is for the venue managers and admins of the event's tenant (reading a ticket for its staff
too); another tenant's event or ticket does not exist for them. Every move follows the state
machine of engine/tickets.py on a locked row and is kept in the audit log; a move the machine
forbids is TICKET_STATUS_CONFLICT, naming the ticket's status.
"""

import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.tickets import TicketAction, TicketReason
from gateway.auth import Principal, Role
from gateway.errors import ApiError, ErrorCode, refusals_answered
from gateway.exchange import (
    VENUE_ROLES,
    answer_once,
    authenticate,
    decode_body,
    idempotency_key,
    invalid,
    json_response,
    read_body,
)
from gateway.routes.claims import claim_view
from gateway.routes.orders import ticket_view
from gateway.routes.tickets import located_ticket
from gateway.routes.venue import tenant_event
from gateway.state import gateway_state
from gateway.ticket_schemas import CompBody, CompView, LockBody, NoteBody
from persistence.event_details import EventDetails
from persistence.tickets import TicketRecord
from services.claims import offer_comp_tickets
from services.comps import CompItem, CompRequest, issue_comps
from services.ticket_moves import move_ticket_for_venue, replace_lost_ticket

router = APIRouter()
COMP_DECODER = msgspec.json.Decoder(CompBody)
LOCK_DECODER = msgspec.json.Decoder(LockBody)
NOTE_DECODER = msgspec.json.Decoder(NoteBody)
READER_ROLES = (Role.VENUE_STAFF, *VENUE_ROLES)
EMPTY_BODY = b"{}"


def comp_request(body: CompBody) -> CompRequest:
    return CompRequest(
        reason=body.reason,
        items=None
        if body.items is None
        else tuple(
            CompItem(ticket_type_id=item.ticket_type_id, quantity=item.quantity)
            for item in body.items
        ),
        seats=None if body.seats is None else tuple(body.seats),
        source=body.source,
        email=body.email,
        note=body.note,
    )


def comp_recipient(body: CompBody, principal: Principal) -> tuple[str, uuid.UUID]:
    """Who the comps are issued to, and their tenant: the named fan, or, when they are offered by
    email, the caller until someone claims them."""
    if (body.to_user_id is None) == (body.to_email is None):
        raise invalid("give exactly one of to_user_id and to_email", field="to_user_id")
    if body.to_email is not None:
        for field in ("to_tenant_id", "email"):
            if getattr(body, field) is not None:
                raise invalid(f"{field} goes with to_user_id only", field=field)
        return principal.caller, principal.tenant_id
    to_tenant_id = (
        principal.tenant_id if body.to_tenant_id is None else uuid.UUID(body.to_tenant_id)
    )
    return f"{to_tenant_id}/{body.to_user_id}", to_tenant_id


@router.post("/v1/venue/events/{event_id}/comps")
async def give_comps(request: Request, event_id: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        state = gateway_state(request)
        details = await tenant_event(request, principal, event_id)
        body = decode_body(raw_body, COMP_DECODER)
        recipient_id, to_tenant_id = comp_recipient(body, principal)
        inventory = state.clients.inventory(details.location.event_id)
        with refusals_answered():
            issued = await issue_comps(
                state.database_pool,
                inventory.execute,
                details=details,
                request=comp_request(body),
                caller=principal.caller,
                recipient_id=recipient_id,
                key=idempotency_key(request),
            )
            claims = (
                []
                if body.to_email is None
                else await offer_comp_tickets(
                    state.database_pool,
                    details=details,
                    ticket_ids=[ticket.ticket_id for ticket in issued.tickets],
                    giver_id=principal.caller,
                    to_email=body.to_email,
                    now_ms=state.clock(),
                )
            )
        state.stats_board.forget(details.location.event_id)
        view = CompView(
            order_id=str(issued.order_id),
            event_id=str(details.location.event_id),
            reason=body.reason,
            to_user_id=body.to_user_id,
            to_tenant_id=str(to_tenant_id),
            tickets=[ticket_view(ticket) for ticket in issued.tickets],
            to_email=body.to_email,
            claims=[claim_view(claim) for claim in claims],
        )
        return json_response(view, status=201)

    return await answer_once(request, principal, raw_body, produce)


async def venue_ticket(
    request: Request, principal: Principal, ticket_id: str
) -> tuple[EventDetails, TicketRecord]:
    """A ticket of the caller's tenant's events; any other is NOT_FOUND, exactly like none."""
    details, ticket = await located_ticket(request, ticket_id)
    if details.location.tenant_id != principal.tenant_id:
        raise ApiError(ErrorCode.NOT_FOUND, message="no such ticket")
    return details, ticket


@router.get("/v1/venue/tickets/{ticket_id}")
async def read_venue_ticket(request: Request, ticket_id: str) -> Response:
    principal = await authenticate(request, *READER_ROLES)
    _, ticket = await venue_ticket(request, principal, ticket_id)
    return json_response(ticket_view(ticket))


async def move_by_venue(
    request: Request,
    principal: Principal,
    ticket_id: str,
    action: TicketAction,
    reason: TicketReason | None,
    note: str | None,
) -> Response:
    """Lock or unlock the ticket, as the state machine allows, and answer with it."""
    details, ticket = await venue_ticket(request, principal, ticket_id)
    with refusals_answered():
        changed = await move_ticket_for_venue(
            gateway_state(request).database_pool,
            details=details,
            ticket_id=ticket.ticket_id,
            action=action,
            reason=reason,
            note=note,
            actor=principal.caller,
        )
    return json_response(ticket_view(changed))


@router.post("/v1/venue/tickets/{ticket_id}/lock")
async def lock_ticket(request: Request, ticket_id: str) -> Response:
    """Freeze a ticket under fraud, chargeback, dispute or legal hold: it neither scans nor
    transfers until unlocked."""
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body, LOCK_DECODER)
        return await move_by_venue(
            request, principal, ticket_id, TicketAction.LOCK, TicketReason(body.reason), body.note
        )

    return await answer_once(request, principal, raw_body, produce)


@router.post("/v1/venue/tickets/{ticket_id}/unlock")
async def unlock_ticket(request: Request, ticket_id: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body or EMPTY_BODY, NOTE_DECODER)
        return await move_by_venue(
            request, principal, ticket_id, TicketAction.UNLOCK, None, body.note
        )

    return await answer_once(request, principal, raw_body, produce)


@router.post("/v1/venue/tickets/{ticket_id}/reissue")
async def reissue_ticket(request: Request, ticket_id: str) -> Response:
    """Replace a lost ticket: the old one is revoked, its owner gets a new one (new id, new QR
    code) on the same seat and order, carrying the same NFT, minted yet or not."""
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body or EMPTY_BODY, NOTE_DECODER)
        details, ticket = await venue_ticket(request, principal, ticket_id)
        with refusals_answered():
            successor = await replace_lost_ticket(
                gateway_state(request).database_pool,
                details=details,
                ticket_id=ticket.ticket_id,
                note=body.note,
                actor=principal.caller,
            )
        return json_response(ticket_view(successor), status=201)

    return await answer_once(request, principal, raw_body, produce)
