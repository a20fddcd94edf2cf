"""Fan reads of an event: its details with live availability, and its seat map.

Hidden ticket types show only to a fan who gives (`?code=`) a valid code that unlocks them; with
a valid code, prices are shown after its discount, and the event says whether the code is valid.
"""

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from engine.inventory.codes import CodeDefinition
from gateway.code_views import code_check, visible_ticket_type_ids, with_code
from gateway.errors import ApiError, ErrorCode
from gateway.event_view_schemas import CodeCheckView
from gateway.event_views import fan_event_view, seatmap_view
from gateway.exchange import authenticate, invalid, json_response, path_id
from gateway.state import gateway_state
from persistence.code_reads import load_code_by_text
from persistence.event_details import EventDetails
from persistence.tenancy import tenant_transaction

router = APIRouter()
CODE_PARAMETER = "code"


async def known_event(request: Request, event_id: str) -> EventDetails:
    details: EventDetails | None = await gateway_state(request).catalog.details(path_id(event_id))
    if details is None:
        raise ApiError(ErrorCode.NOT_FOUND, message="no such event")
    return details


async def fans_code(
    request: Request, details: EventDetails
) -> tuple[CodeCheckView | None, CodeDefinition | None]:
    """The `?code=` of a fan's read: whether it is valid now, and the code when it is."""
    text = request.query_params.get(CODE_PARAMETER)
    if text is None:
        return None, None
    if not 1 <= len(text) <= limits.CODE_CHARACTERS_MAX or not text.isprintable():
        raise invalid(
            f"a code is 1 to {limits.CODE_CHARACTERS_MAX} printable characters",
            parameter=CODE_PARAMETER,
        )
    state = gateway_state(request)
    location = details.location
    async with tenant_transaction(state.database_pool, location.tenant_id) as connection:
        stored = await load_code_by_text(connection, event_id=location.event_id, text=text)
    check = code_check(stored, state.clock())
    return check, stored.definition if stored is not None and check.valid else None


@router.get("/v1/events/{event_id}")
async def read_event(request: Request, event_id: str) -> Response:
    state = gateway_state(request)
    await authenticate(request)
    details = await known_event(request, event_id)
    check, code = await fans_code(request, details)
    snapshot = await state.stats_board.inventory(details)
    view = fan_event_view(details, snapshot, state.clock())
    view = msgspec.structs.replace(
        view,
        ticket_types=with_code(view.ticket_types, details, code),
        code=msgspec.UNSET if check is None else check,
    )
    return json_response(view)


@router.get("/v1/events/{event_id}/seatmap")
async def read_seatmap(request: Request, event_id: str) -> Response:
    await authenticate(request)
    details = await known_event(request, event_id)
    _, code = await fans_code(request, details)
    snapshot = await gateway_state(request).stats_board.seat_states(details)
    view = seatmap_view(details, snapshot)
    visible = visible_ticket_type_ids(details, code)
    sections = [section for section in view.sections if section.ticket_type_id in visible]
    return json_response(msgspec.structs.replace(view, sections=sections))
