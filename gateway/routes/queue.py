"""The waiting room over HTTP: joining (through the event's WaitingRoomActor, in batches) and
polling (from Redis alone). With the room disabled every fan is admitted at once, with a place
whose id is derived from the fan, so joining again and polling answer the same, unless the event
has sold out: then the place is `sold_out`, with no access token.

A join may carry `{"code"}`, checked against the event's codes at the moment of the join (their
uses are the holds' to count). An invite-only queue (`requires_code`) takes a fan without a code
only when the fan already has a place (NOT_ADMITTED otherwise), and any valid code of the event;
a code that is not the event's, or is inactive or outside its dates, is CODE_INVALID. In any room,
a valid presale code puts the fan in the presale line before `opens_at`; a discount code is the
holds' business, so a room that needs no code ignores one, valid or not. With the room disabled
a code changes nothing.
"""

import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from actors.waiting_room_publication import queue_position
from engine.access_tokens import issue_access_token
from engine.inventory.codes import CodeKind
from engine.limits import MILLISECONDS_PER_SECOND
from engine.rejections import Rejected
from engine.stock import Stock
from engine.waiting_room.state import PlaceState
from engine.waiting_room.views import PlaceView
from gateway.errors import ApiError, ErrorCode, rejection_error
from gateway.exchange import authenticate, decode_body, json_response, path_id, read_body
from gateway.queue_schemas import QueueJoinBody, QueueView
from gateway.routes.events import known_event
from gateway.state import gateway_state
from persistence.code_reads import load_code_by_text
from persistence.event_details import EventDetails
from persistence.queue_codes import has_place
from persistence.tenancy import tenant_transaction

router = APIRouter()
QUEUE_JOIN_DECODER = msgspec.json.Decoder(QueueJoinBody)


async def open_door_place(request: Request, details: EventDetails, fan_id: str) -> QueueView:
    """The place of a fan at an event without a waiting room: admitted, with a fresh token, or
    `sold_out` once the event has nothing available or held (its figures at most a refresh of the
    stats board old)."""
    state = gateway_state(request)
    event_id = str(details.location.event_id)
    now_ms: int = state.clock()
    snapshot = await state.stats_board.inventory(details)
    stock = Stock.of_counts(snapshot.counts)
    queue_id = str(uuid.uuid5(details.location.event_id, fan_id))
    if stock is Stock.SOLD_OUT:
        return QueueView(
            queue_id=queue_id,
            state=PlaceState.SOLD_OUT,
            position=None,
            eta_s=None,
            access_token=None,
            inventory=stock,
            wait_list=details.wait_list.enabled,
        )
    return QueueView(
        queue_id=queue_id,
        state=PlaceState.ADMITTED,
        position=None,
        eta_s=None,
        access_token=issue_access_token(
            secret=state.access_secret,
            event_id=event_id,
            fan_id=fan_id,
            expires_at_ms=now_ms + details.waiting_room.access_ttl_s * MILLISECONDS_PER_SECOND,
        ),
        inventory=stock,
        wait_list=details.wait_list.enabled,
    )


def queue_view(place: PlaceView | Rejected, details: EventDetails) -> QueueView:
    """The place as the fan sees it: every place of a cancelled event is `cancelled`."""
    if isinstance(place, Rejected):
        raise rejection_error(place)
    if details.cancelled:
        return QueueView(
            queue_id=place.queue_id,
            state=PlaceState.CANCELLED,
            position=None,
            eta_s=None,
            access_token=None,
            inventory=place.inventory,
            wait_list=False,
        )
    return QueueView(
        queue_id=place.queue_id,
        state=place.state,
        position=place.position,
        eta_s=place.eta_s,
        access_token=place.access_token,
        inventory=place.inventory,
        wait_list=details.wait_list.enabled,
    )


async def joins_presale(
    request: Request, details: EventDetails, fan_id: str, code: str | None
) -> bool:
    """Whether the fan joins with a valid presale code; NOT_ADMITTED or CODE_INVALID when the code
    does not let the fan in (the module's docstring has the rules). Touches Postgres only for a
    join with a code, or without one at an invite-only queue."""
    requires_code = details.waiting_room.requires_code
    if code is None and not requires_code:
        return False
    state = gateway_state(request)
    location = details.location
    async with tenant_transaction(state.database_pool, location.tenant_id) as connection:
        if code is None:
            if await has_place(connection, event_id=location.event_id, fan_id=fan_id):
                return False
            raise ApiError(
                ErrorCode.NOT_ADMITTED, message="this queue is invite-only: join it with a code"
            )
        stored = await load_code_by_text(connection, event_id=location.event_id, text=code)
    if stored is None:
        raise ApiError(ErrorCode.CODE_INVALID, message="this event has no such code")
    valid = stored.definition.is_valid_at(state.clock())
    presale = stored.definition.kind is CodeKind.PRESALE
    if (requires_code or presale) and not valid:
        raise ApiError(ErrorCode.CODE_INVALID, message="this code is inactive or outside its dates")
    return valid and presale


@router.post("/v1/events/{event_id}/queue")
async def join_queue(request: Request, event_id: str) -> Response:
    principal = await authenticate(request)
    details = await known_event(request, event_id)
    if details.cancelled:
        raise ApiError(ErrorCode.EVENT_CANCELLED, message="this event was cancelled")
    raw_body = await read_body(request)
    code = decode_body(raw_body, QUEUE_JOIN_DECODER).code if raw_body.strip() else None
    if not details.waiting_room.enabled:
        return json_response(await open_door_place(request, details, principal.caller))
    presale = await joins_presale(request, details, principal.caller, code)
    client = gateway_state(request).clients.waiting_room(details.location.event_id)
    return json_response(queue_view(await client.join(principal.caller, presale=presale), details))


@router.get("/v1/events/{event_id}/queue/{queue_id}")
async def poll_queue(request: Request, event_id: str, queue_id: str) -> Response:
    state = gateway_state(request)
    principal = await authenticate(request)
    details = await known_event(request, event_id)
    place_id = path_id(queue_id)
    if not details.waiting_room.enabled:
        view = await open_door_place(request, details, principal.caller)
        if view.queue_id != str(place_id):
            raise ApiError(ErrorCode.NOT_FOUND, message="no such place in this queue")
        if details.cancelled:
            view = msgspec.structs.replace(
                view, state=PlaceState.CANCELLED, access_token=None, wait_list=False
            )
        return json_response(view)
    place = await queue_position(
        state.redis,
        str(details.location.event_id),
        str(place_id),
        state.clock(),
        fan_id=principal.caller,
    )
    return json_response(queue_view(place, details))
