"""A fan's tickets over HTTP: the listing, one ticket, its rotating code and the key to make it
offline, and giving it away (to a user id at once, or to an email address as a claim).

Ticket ids carry their event's number, like order ids, so an id leads to its event and tenant, and
every read runs in that tenant's transaction. A ticket is seen by its owner alone; to anyone else
it does not exist. The listing shows the tickets a fan holds (a ticket given away or reissued has
ended and is left out, unless asked for by `status`), newest first, a page at a time.
"""

import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from engine.ticket_qr import PAYLOAD_VERSION, encode_base64url, qr_step, step_ends_at_ms
from engine.tickets import TicketStatus
from gateway.auth import Principal
from gateway.canonical_ids import canonical_uuid
from gateway.cursors import decode_position, encode_position, page_limit
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
from gateway.routes.claims import claim_view
from gateway.routes.orders import ticket_view
from gateway.schemas import format_moment
from gateway.state import gateway_state
from gateway.ticket_schemas import CodeKeyView, QrView, TicketList, TransferBody
from persistence.event_details import EventDetails
from persistence.tenancy import tenant_transaction
from persistence.ticket_holders import tenants_holding_tickets_of
from persistence.ticket_keys import CodeKeyPair, load_code_key_pair
from persistence.tickets import (
    TicketPosition,
    TicketRecord,
    list_owner_tickets,
    load_ticket,
    position_of,
)
from services.claims import offer_ticket
from services.ticket_codes import sign_code
from services.transfers import transfer_ticket

router = APIRouter()
TRANSFER_DECODER = msgspec.json.Decoder(TransferBody)
# What a fan holds: every status but those of a ticket that was replaced by another.
HELD_STATUSES = tuple(
    status
    for status in TicketStatus
    if status not in (TicketStatus.TRANSFERRED, TicketStatus.REVOKED)
)
# A code is shown for a ticket that may still reach a gate; the gate says why it is turned away.
QR_STATUSES = frozenset({TicketStatus.VALID, TicketStatus.LOCKED})


def listing_statuses(text: str | None) -> tuple[TicketStatus, ...]:
    if text is None:
        return HELD_STATUSES
    try:
        return (TicketStatus(text),)
    except ValueError:
        raise invalid(
            "status is a ticket status", parameter="status", statuses=list(TicketStatus)
        ) from None


async def listing_tenants(
    request: Request, principal: Principal, event_id: str | None
) -> tuple[list[uuid.UUID], uuid.UUID | None]:
    """The tenants to read and the event to filter on; an unknown event filters everything out."""
    state = gateway_state(request)
    if event_id is None:
        tenants = await tenants_holding_tickets_of(
            state.database_pool,
            owner_user_id=principal.caller,
            limit=limits.TENANTS_PER_TICKET_LISTING_MAX,
        )
        return tenants, None
    event_uuid = canonical_uuid(event_id)
    if event_uuid is None:
        raise invalid("event_id is an event's id", parameter="event_id")
    details: EventDetails | None = await state.catalog.details(event_uuid)
    if details is None:
        return [], event_uuid
    return [details.location.tenant_id], event_uuid


@router.get("/v1/me/tickets")
async def list_my_tickets(request: Request) -> Response:
    principal = await authenticate(request)
    query = request.query_params
    limit = page_limit(
        query.get("limit"),
        default=limits.TICKETS_LISTED_DEFAULT,
        maximum=limits.TICKETS_LISTED_MAX,
    )
    statuses = listing_statuses(query.get("status"))
    cursor = query.get("cursor")
    after: TicketPosition | None = None if cursor is None else decode_position(cursor)
    tenants, event_id = await listing_tenants(request, principal, query.get("event_id"))
    found: list[TicketRecord] = []
    for tenant_id in tenants:
        async with tenant_transaction(
            gateway_state(request).database_pool, tenant_id
        ) as connection:
            found.extend(
                await list_owner_tickets(
                    connection,
                    owner_user_id=principal.caller,
                    event_id=event_id,
                    statuses=statuses,
                    after=after,
                    limit=limit + 1,
                )
            )
    found.sort(key=lambda ticket: (ticket.issued_at_us, ticket.ticket_id), reverse=True)
    page = found[:limit]
    next_cursor = encode_position(position_of(page[-1])) if len(found) > limit else None
    return json_response(
        TicketList(tickets=[ticket_view(ticket) for ticket in page], next_cursor=next_cursor)
    )


async def located_ticket(request: Request, ticket_id: str) -> tuple[EventDetails, TicketRecord]:
    """The ticket and its event, whoever asks; NOT_FOUND when the id names no ticket."""
    state = gateway_state(request)
    located_id = path_id(ticket_id)
    details: EventDetails | None = await state.catalog.details_of_located_id(located_id)
    if details is not None:
        async with tenant_transaction(
            state.database_pool, details.location.tenant_id
        ) as connection:
            ticket = await load_ticket(connection, located_id)
        if ticket is not None:
            return details, ticket
    raise ApiError(ErrorCode.NOT_FOUND, message="no such ticket")


async def fans_ticket(
    request: Request, principal: Principal, ticket_id: str
) -> tuple[EventDetails, TicketRecord]:
    """The caller's ticket; another fan's is NOT_FOUND, exactly like none."""
    details, ticket = await located_ticket(request, ticket_id)
    if ticket.owner_user_id != principal.caller:
        raise ApiError(ErrorCode.NOT_FOUND, message="no such ticket")
    return details, ticket


@router.get("/v1/tickets/{ticket_id}")
async def read_ticket(request: Request, ticket_id: str) -> Response:
    principal = await authenticate(request)
    _, ticket = await fans_ticket(request, principal, ticket_id)
    return json_response(ticket_view(ticket))


async def code_key_pair(request: Request, ticket_id: str) -> tuple[TicketRecord, CodeKeyPair]:
    """The caller's ticket and its key pair, when the ticket has a code to show."""
    state = gateway_state(request)
    principal = await authenticate(request)
    details, ticket = await fans_ticket(request, principal, ticket_id)
    if ticket.status not in QR_STATUSES:
        raise ApiError(
            ErrorCode.TICKET_STATUS_CONFLICT,
            message=f"a {ticket.status} ticket has no code to show",
            details={"status": ticket.status},
        )
    async with tenant_transaction(state.database_pool, details.location.tenant_id) as connection:
        key_pair = await load_code_key_pair(connection, ticket.ticket_id)
    assert key_pair is not None, "every ticket has its code key pair"
    return ticket, key_pair


def unstored(view: msgspec.Struct) -> Response:
    return Response(
        content=msgspec.json.encode(view),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/v1/tickets/{ticket_id}/qr")
async def read_ticket_qr(request: Request, ticket_id: str) -> Response:
    """The code of the current time step, signed with the ticket's own key."""
    ticket, key_pair = await code_key_pair(request, ticket_id)
    step = qr_step(gateway_state(request).clock())
    return unstored(
        QrView(
            payload=sign_code(seed=key_pair.seed, ticket_id=str(ticket.ticket_id), step=step),
            expires_at=format_moment(step_ends_at_ms(step)),
            rotates_every_s=limits.QR_STEP_MS // limits.MILLISECONDS_PER_SECOND,
        )
    )


@router.get("/v1/tickets/{ticket_id}/code-key")
async def read_ticket_code_key(request: Request, ticket_id: str) -> Response:
    """The ticket's signing key, for its owner's app to show valid codes with no network."""
    ticket, key_pair = await code_key_pair(request, ticket_id)
    return unstored(
        CodeKeyView(
            ticket_id=str(ticket.ticket_id),
            payload_version=PAYLOAD_VERSION,
            signing_key=encode_base64url(key_pair.seed),
            public_key=encode_base64url(key_pair.public_key),
            qr_step_s=limits.QR_STEP_MS // limits.MILLISECONDS_PER_SECOND,
            qr_skew_steps=limits.QR_CLOCK_SKEW_STEPS,
        )
    )


@router.post("/v1/tickets/{ticket_id}/transfer")
async def transfer(request: Request, ticket_id: str) -> Response:
    """Give the ticket to another fan: at once to a user id (the recipient's new ticket, its NFT
    moving on chain), or by email, as a claim that moves the ticket when it is accepted."""
    principal = await authenticate(request)
    raw_body = await read_body(request)

    async def produce() -> Response:
        state = gateway_state(request)
        body = decode_body(raw_body, TRANSFER_DECODER)
        if (body.to_user_id is None) == (body.to_email is None):
            raise invalid("give exactly one of to_user_id and to_email", field="to_user_id")
        if body.to_email is not None and body.to_tenant_id is not None:
            raise invalid("to_tenant_id goes with to_user_id only", field="to_tenant_id")
        details, ticket = await fans_ticket(request, principal, ticket_id)
        if body.to_email is not None:
            with refusals_answered():
                claim = await offer_ticket(
                    state.database_pool,
                    details=details,
                    ticket_id=ticket.ticket_id,
                    giver_id=principal.caller,
                    to_email=body.to_email,
                    now_ms=state.clock(),
                )
            return json_response(claim_view(claim), status=202)
        to_tenant_id = (
            principal.tenant_id if body.to_tenant_id is None else uuid.UUID(body.to_tenant_id)
        )
        with refusals_answered():
            given = await transfer_ticket(
                state.database_pool,
                details=details,
                ticket_id=ticket.ticket_id,
                giver_id=principal.caller,
                recipient_id=f"{to_tenant_id}/{body.to_user_id}",
                now_ms=state.clock(),
            )
        return json_response(ticket_view(given))

    return await answer_once(request, principal, raw_body, produce)
