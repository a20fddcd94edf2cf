"""The wait list over HTTP: a fan joins an event's list, reads the entry back, and leaves it.

Joining goes to the event's InventoryActor, which makes the offers: a fan has one entry per event,
so joining again answers that entry with 200 (the first join answers 201), whatever its status.
Entry ids carry their event's number, like hold ids, so an entry leads to its event and tenant;
another fan's entry does not exist (NOT_FOUND). Leaving an offered entry releases its hold, whose
stock passes on to the next entry.
"""

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.commands import JoinWaitList, LeaveWaitList
from engine.outcomes import WaitListEntryView as JoinedEntry
from engine.rejections import Rejected
from gateway.auth import Principal
from gateway.errors import ApiError, ErrorCode, rejection_error
from gateway.exchange import (
    answer_once,
    authenticate,
    decode_body,
    json_response,
    path_id,
    read_body,
)
from gateway.routes.events import known_event
from gateway.schemas import format_moment
from gateway.state import gateway_state
from gateway.wait_list_schemas import WaitListEntryView, WaitListJoinBody, WaitListJoinView
from persistence.event_details import EventDetails
from persistence.located_ids import mint_located_id
from persistence.tenancy import tenant_transaction
from persistence.wait_list_entries import StoredWaitListEntry, load_wait_list_entry

router = APIRouter()
JOIN_DECODER = msgspec.json.Decoder(WaitListJoinBody)


@router.post("/v1/events/{event_id}/wait-list")
async def join_wait_list(request: Request, event_id: str) -> Response:
    principal = await authenticate(request)
    details = await known_event(request, event_id)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body, JOIN_DECODER)
        command = JoinWaitList(
            new_entry_id=mint_located_id(details.location.event_number),
            fan_id=principal.caller,
            quantity=body.quantity,
            ticket_type_id=body.ticket_type_id,
            email=principal.email,
        )
        client = gateway_state(request).clients.inventory(details.location.event_id)
        result = await client.execute(command)
        if isinstance(result, Rejected):
            raise rejection_error(result)
        assert isinstance(result, JoinedEntry), result
        view = WaitListJoinView(
            entry_id=result.entry_id, status=result.status.value, position=result.position
        )
        return json_response(view, status=201 if result.entry_id == command.new_entry_id else 200)

    return await answer_once(request, principal, raw_body, produce)


async def fans_entry(
    request: Request, principal: Principal, entry_id: str
) -> tuple[EventDetails, StoredWaitListEntry]:
    """The caller's entry as Postgres has it; another fan's entry is NOT_FOUND, like no entry."""
    state = gateway_state(request)
    located_id = path_id(entry_id)
    details = await state.catalog.details_of_located_id(located_id)
    if details is not None:
        location = details.location
        async with tenant_transaction(state.database_pool, location.tenant_id) as connection:
            entry = await load_wait_list_entry(
                connection, event_id=location.event_id, entry_id=located_id
            )
        if entry is not None and entry.fan_id == principal.caller:
            return details, entry
    raise ApiError(ErrorCode.NOT_FOUND, message="no such wait-list entry")


@router.get("/v1/wait-list/{entry_id}")
async def read_wait_list_entry(request: Request, entry_id: str) -> Response:
    principal = await authenticate(request)
    _, entry = await fans_entry(request, principal, entry_id)
    view = WaitListEntryView(
        entry_id=entry.entry_id,
        event_id=entry.event_id,
        status=entry.status.value,
        position=entry.position,
        quantity=entry.quantity,
        ticket_type_id=entry.ticket_type_id,
        hold_id=entry.hold_id,
        offer_expires_at=(
            None if entry.offer_expires_at_ms is None else format_moment(entry.offer_expires_at_ms)
        ),
    )
    return json_response(view)


@router.delete("/v1/wait-list/{entry_id}")
async def leave_wait_list(request: Request, entry_id: str) -> Response:
    """204 once the entry is off the list, also when it already was (or was converted)."""
    principal = await authenticate(request)
    details, entry = await fans_entry(request, principal, entry_id)
    client = gateway_state(request).clients.inventory(details.location.event_id)
    result = await client.execute(LeaveWaitList(entry_id=entry.entry_id, fan_id=principal.caller))
    if isinstance(result, Rejected):
        raise rejection_error(result)
    return Response(status_code=204)
