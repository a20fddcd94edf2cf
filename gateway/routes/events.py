"""Fan reads of an event: its details with live availability, and its seat map."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.errors import ApiError, ErrorCode
from gateway.event_views import fan_event_view, seatmap_view
from gateway.exchange import authenticate, json_response, path_id
from gateway.state import gateway_state
from persistence.event_details import EventDetails

router = APIRouter()


async def known_event(request: Request, event_id: str) -> EventDetails:
    details: EventDetails | None = await gateway_state(request).catalog.details(path_id(event_id))
    if details is None:
        raise ApiError(ErrorCode.NOT_FOUND, message="no such event")
    return details


@router.get("/v1/events/{event_id}")
async def read_event(request: Request, event_id: str) -> Response:
    state = gateway_state(request)
    await authenticate(request)
    details = await known_event(request, event_id)
    snapshot = await state.stats_board.inventory(details)
    return json_response(fan_event_view(details, snapshot, state.clock()))


@router.get("/v1/events/{event_id}/seatmap")
async def read_seatmap(request: Request, event_id: str) -> Response:
    await authenticate(request)
    details = await known_event(request, event_id)
    snapshot = await gateway_state(request).stats_board.seat_states(details)
    return json_response(seatmap_view(details, snapshot))
