"""Venue endpoints: create an event, read and list the tenant's events, change its on-sale
settings, pause and resume the sale, and watch it live (stats, and the same stats as a
server-sent-events stream).

Every event here is fenced twice: the route answers NOT_FOUND for another tenant's event, and the
reads and writes run in the caller's tenant transaction, where row-level security applies.
"""

import asyncio
import urllib.parse
from collections.abc import AsyncIterator

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from engine import limits
from engine.commands import PauseSale, ResumeSale
from engine.inventory.configuration import TicketKind
from engine.rejections import Rejected
from gateway.auth import Principal
from gateway.entry_settings import EntryChange, creation_entry_policy, entry_change
from gateway.errors import ApiError, ErrorCode, rejection_error
from gateway.event_schemas import CreateEventBody, PatchEventBody
from gateway.event_view_schemas import CreatedEventView, CreatedTicketTypeView, VenueEventList
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
from gateway.marked_seats import check_marked_seats
from gateway.onsale_changes import (
    INVITE_ONLY_NEEDS_A_ROOM,
    ONSALE,
    WAITING_ROOM,
    OnsaleChange,
    given,
    onsale_change,
)
from gateway.schemas import EventStatus
from gateway.state import gateway_state
from gateway.stats_board import event_status
from gateway.ticket_type_sales import (
    new_ticket_type,
    ticket_type_sales_change,
    ticket_type_sales_error,
)
from persistence.entry_policies import record_entry_policy, record_ticket_type_zones
from persistence.event_details import (
    EventDetails,
    find_or_add_venue,
    list_event_ids,
    record_transfers_allowed,
    record_waiting_room_settings,
)
from persistence.event_repository import (
    EventRejected,
    NewEvent,
    NewRow,
    NewSection,
    WaitingRoomSettings,
    WaitListSettings,
    create_event,
    milliseconds_of,
)
from persistence.tenancy import tenant_transaction
from persistence.tenants import register_tenant

router = APIRouter()
CREATE_DECODER = msgspec.json.Decoder(CreateEventBody)
PATCH_DECODER = msgspec.json.Decoder(PatchEventBody)
STATS_ENCODER = msgspec.json.Encoder()


def names_a_host(url: str) -> bool:
    """Whether a URL the body's pattern lets through names a host (and a usable port, if any)."""
    try:
        parts = urllib.parse.urlsplit(url)
        return bool(parts.hostname) and parts.port != 0
    except ValueError:
        return False


def new_event(body: CreateEventBody) -> NewEvent:
    """The event to create, after the checks the body's types cannot express."""
    if body.ends_at < body.starts_at:
        raise invalid("ends_at is before starts_at", field="ends_at")
    if body.onsale.closes_at <= body.onsale.opens_at:
        raise invalid("onsale.closes_at must be after onsale.opens_at", field="onsale.closes_at")
    kinds = {ticket_type.key: ticket_type.kind for ticket_type in body.ticket_types}
    if len(kinds) != len(body.ticket_types):
        raise invalid("ticket type keys must be unique", field="ticket_types")
    for ticket_type in body.ticket_types:
        if ticket_type.kind is TicketKind.GENERAL and ticket_type.capacity is None:
            raise invalid("a general ticket type needs a capacity", key=ticket_type.key)
        if ticket_type.kind is TicketKind.SEATED and ticket_type.capacity is not None:
            raise invalid("a seated ticket type's capacity is its seat count", key=ticket_type.key)
    sections = body.seatmap.sections if body.seatmap is not None else []
    if body.webhook_url is not None and not names_a_host(body.webhook_url):
        raise invalid("webhook_url names no host, or a port out of range", field="webhook_url")
    for position, section in enumerate(sections):
        if kinds.get(section.ticket_type) is not TicketKind.SEATED:
            raise invalid("a section names a seated ticket type", section=section.id)
        check_marked_seats(section, position)
    waiting_room = body.onsale.waiting_room
    if waiting_room.requires_code and not waiting_room.enabled:
        raise invalid(INVITE_ONLY_NEEDS_A_ROOM, field=f"{WAITING_ROOM}.requires_code")
    return NewEvent(
        name=body.name,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        currency=body.currency,
        opens_at=body.onsale.opens_at,
        closes_at=body.onsale.closes_at,
        hold_ttl_s=body.onsale.hold_ttl_s,
        max_tickets_per_user=body.onsale.max_tickets_per_user,
        waiting_room=WaitingRoomSettings(
            enabled=waiting_room.enabled,
            admit_per_second=waiting_room.admit_per_second,
            max_active_shoppers=waiting_room.max_active_shoppers,
            access_ttl_s=waiting_room.access_ttl_s,
            requires_code=waiting_room.requires_code,
        ),
        wait_list=WaitListSettings(
            enabled=body.onsale.wait_list.enabled, offer_ttl_s=body.onsale.wait_list.offer_ttl_s
        ),
        ticket_types=tuple(
            new_ticket_type(
                ticket_type,
                position,
                opens_at_ms=milliseconds_of(body.onsale.opens_at),
                closes_at_ms=milliseconds_of(body.onsale.closes_at),
            )
            for position, ticket_type in enumerate(body.ticket_types)
        ),
        sections=tuple(
            NewSection(
                section_id=section.id,
                ticket_type_key=section.ticket_type,
                rows=tuple(
                    NewRow(
                        row_id=row.id,
                        seats=row.seats,
                        accessible=tuple(row.accessible),
                        companion=tuple(row.companion),
                    )
                    for row in section.rows
                ),
            )
            for section in sections
        ),
        webhook_url=body.webhook_url,
        transfers_allowed=body.transfers_allowed,
        accessible_release_h=body.onsale.accessible_release_h,
    )


async def write_event(request: Request, principal: Principal, body: CreateEventBody) -> Response:
    event = new_event(body)
    policy = creation_entry_policy(body)
    zones = {ticket_type.key: ticket_type.zone for ticket_type in body.ticket_types}
    pool = gateway_state(request).database_pool
    async with pool.acquire() as connection:
        await register_tenant(connection, tenant_id=principal.tenant_id)
    try:
        async with tenant_transaction(pool, principal.tenant_id) as connection:
            venue_id = await find_or_add_venue(
                connection, tenant_id=principal.tenant_id, name=body.venue_name
            )
            created = await create_event(
                connection, tenant_id=principal.tenant_id, venue_id=venue_id, event=event
            )
            await record_entry_policy(connection, event_id=created.event_id, policy=policy)
            await record_ticket_type_zones(connection, event_id=created.event_id, zones=zones)
    except EventRejected as error:
        raise rejection_error(error.rejected) from None
    view = CreatedEventView(
        event_id=str(created.event_id),
        ticket_types=[
            CreatedTicketTypeView(id=str(ticket_type.ticket_type_id), key=ticket_type.key)
            for ticket_type in created.ticket_types
        ],
        seats=created.seats,
    )
    return json_response(view, status=201)


@router.post("/v1/venue/events")
async def create_venue_event(request: Request) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        return await write_event(request, principal, decode_body(raw_body, CREATE_DECODER))

    return await answer_once(request, principal, raw_body, produce)


async def tenant_event(request: Request, principal: Principal, event_id: str) -> EventDetails:
    """The caller's tenant's event; another tenant's is NOT_FOUND, exactly like none."""
    details: EventDetails | None = await gateway_state(request).catalog.details(path_id(event_id))
    if details is None or details.location.tenant_id != principal.tenant_id:
        raise ApiError(ErrorCode.NOT_FOUND, message="no such event")
    return details


async def venue_view_response(request: Request, details: EventDetails) -> Response:
    state = gateway_state(request)
    snapshot = await state.stats_board.inventory(details)
    return json_response(venue_event_view(details, snapshot, state.clock()))


@router.get("/v1/venue/events")
async def list_venue_events(request: Request) -> Response:
    state = gateway_state(request)
    principal = await authenticate(request, *VENUE_ROLES)
    async with tenant_transaction(state.database_pool, principal.tenant_id) as connection:
        event_ids = await list_event_ids(connection, limit=limits.VENUE_EVENTS_LISTED_MAX)
    views = []
    for event_id in event_ids:
        details = await state.catalog.details(event_id)
        if details is not None:
            snapshot = await state.stats_board.inventory(details)
            views.append(venue_event_view(details, snapshot, state.clock()))
    return json_response(VenueEventList(events=views))


@router.get("/v1/venue/events/{event_id}")
async def read_venue_event(request: Request, event_id: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    return await venue_view_response(request, await tenant_event(request, principal, event_id))


async def current_status(request: Request, details: EventDetails) -> EventStatus:
    """The event's status now, from a fresh snapshot of its inventory (a pause shows at once)."""
    state = gateway_state(request)
    board = state.stats_board
    board.forget(details.location.event_id)
    snapshot = await board.inventory(details)
    return event_status(details, snapshot, state.clock())


def with_field_under(rejected: Rejected, prefix: str) -> ApiError:
    """The API error of an actor's rejection, its field named as the body names it."""
    field = rejected.details.get("field")
    if isinstance(field, str):
        details = rejected.details | {"field": f"{prefix}.{field}"}
        rejected = msgspec.structs.replace(rejected, details=details)
    return rejection_error(rejected)


async def apply_change(
    request: Request,
    details: EventDetails,
    body: PatchEventBody,
    change: OnsaleChange,
    entry: EntryChange,
) -> None:
    """Make a checked PATCH's changes, each through the one that owns it."""
    state = gateway_state(request)
    location = details.location
    if change.sale is not None:
        result = await state.clients.inventory(location.event_id).execute(change.sale)
        if isinstance(result, Rejected):
            raise with_field_under(result, ONSALE)
    if change.ticket_type_sales is not None:
        sales = change.ticket_type_sales
        result = await state.clients.inventory(location.event_id).execute(sales)
        if isinstance(result, Rejected):
            raise ticket_type_sales_error(result, sales)
    if change.room is not None:
        counts = await state.clients.waiting_room(location.event_id).change_settings(change.room)
        if isinstance(counts, Rejected):
            raise with_field_under(counts, WAITING_ROOM)
    if change.shows_another_room:
        async with tenant_transaction(state.database_pool, location.tenant_id) as connection:
            await record_waiting_room_settings(
                connection,
                event_id=location.event_id,
                enabled=change.enabled,
                admit_per_second=change.admit_per_second,
                max_active_shoppers=change.max_active_shoppers,
                access_ttl_s=change.access_ttl_s,
                requires_code=change.requires_code,
            )
    if body.status is not None:
        command = PauseSale() if body.status == "paused" else ResumeSale()
        result = await state.clients.inventory(location.event_id).execute(command)
        if isinstance(result, Rejected):
            raise rejection_error(result)
    if body.transfers_allowed is not None:
        async with tenant_transaction(state.database_pool, location.tenant_id) as connection:
            await record_transfers_allowed(
                connection, event_id=location.event_id, transfers_allowed=body.transfers_allowed
            )
    if entry.policy is not None or entry.zones:
        async with tenant_transaction(state.database_pool, location.tenant_id) as connection:
            if entry.policy is not None:
                await record_entry_policy(
                    connection, event_id=location.event_id, policy=entry.policy
                )
            await record_ticket_type_zones(
                connection, event_id=location.event_id, zones=entry.zones
            )


@router.patch("/v1/venue/events/{event_id}")
async def change_venue_event(request: Request, event_id: str) -> Response:
    """Change the on-sale settings, the ticket types' own windows, price phases and zones,
    pause or resume the sale, allow or forbid transfers, or replace the entry policy, in one
    request: the whole body is checked, against the event as Postgres has it, before anything
    changes. The sale's settings and its
    ticket types' change in its InventoryActor, the waiting room's in its WaitingRoomActor, and
    each applies to what comes after it."""
    principal = await authenticate(request, *VENUE_ROLES)
    state = gateway_state(request)
    state.catalog.forget(path_id(event_id))
    details = await tenant_event(request, principal, event_id)
    body = decode_body(await read_body(request), PATCH_DECODER)
    if details.cancelled:
        raise ApiError(ErrorCode.EVENT_CANCELLED, message="a cancelled event does not change")
    location = details.location
    change = OnsaleChange()
    if body.onsale is not None:
        room_body = body.onsale.waiting_room
        switching = not isinstance(room_body, msgspec.UnsetType) and (
            given(room_body.enabled) or given(room_body.requires_code)
        )
        status = await current_status(request, details) if switching else None
        change = onsale_change(body.onsale, details, status)
    if body.ticket_types is not None:
        sales = ticket_type_sales_change(body.ticket_types, details)
        change = msgspec.structs.replace(change, ticket_type_sales=sales)
    entry = entry_change(body, details)
    try:
        await apply_change(request, details, body, change, entry)
    finally:
        # Forgotten even when a later part failed: what an earlier part changed shows at once.
        state.catalog.forget(location.event_id)
        state.stats_board.forget(location.event_id)
    refreshed = await state.catalog.details(location.event_id)
    assert refreshed is not None
    return await venue_view_response(request, refreshed)


@router.get("/v1/venue/events/{event_id}/stats")
async def read_stats(request: Request, event_id: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    details = await tenant_event(request, principal, event_id)
    return json_response(await gateway_state(request).stats_board.stats(details))


@router.get("/v1/venue/events/{event_id}/stats/stream")
async def stream_stats(request: Request, event_id: str) -> Response:
    """One `data:` line of the stats each refresh interval until the client goes away; the
    event's details are read again each time, so a cancellation shows in the stream."""
    principal = await authenticate(request, *VENUE_ROLES)
    details = await tenant_event(request, principal, event_id)
    state = gateway_state(request)
    board = state.stats_board
    if not board.open_stream():
        raise ApiError(ErrorCode.UNAVAILABLE, message="too many stats streams; retry later")

    async def lines() -> AsyncIterator[bytes]:
        try:
            while not await request.is_disconnected():
                try:
                    current = await state.catalog.details(details.location.event_id)
                    stats = await board.stats(current or details)
                except ApiError:
                    stats = None
                if stats is not None:
                    yield b"data: " + STATS_ENCODER.encode(stats) + b"\n\n"
                await asyncio.sleep(limits.STATS_REFRESH_INTERVAL_MS / 1_000)
        finally:
            board.close_stream()

    return StreamingResponse(
        lines(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
