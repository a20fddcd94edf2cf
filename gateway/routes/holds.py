"""Holds over HTTP: placing one (through the event's batching client, keyed for safe retries),
reading one back in any state, and releasing one.

The engine records each keyed hold with its outcome in the same commit as the hold, so a retry
with the same Idempotency-Key and body gets the same hold and the same bytes, across restarts and
without Redis; the key is scoped to the caller by hashing the two together.
"""

import hashlib
import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import hold_lifecycle
from engine.access_tokens import verify_access_token
from engine.commands import (
    Command,
    HoldBestAvailable,
    HoldSeats,
    ItemRequest,
    PlaceHold,
    ReleaseHold,
)
from engine.holds import HoldItem
from engine.outcomes import HoldView as PlacedHold
from engine.rejections import Reason, Rejected
from gateway.auth import Principal
from gateway.errors import ApiError, ErrorCode, rejection_error
from gateway.exchange import (
    authenticate,
    decode_body,
    idempotency_key,
    invalid,
    json_response,
    path_id,
    read_body,
)
from gateway.hold_schemas import HoldBody, HoldItemView, HoldStatus, HoldView
from gateway.metrics import hold_outcome_series
from gateway.routes.events import known_event
from gateway.schemas import format_moment
from gateway.state import gateway_state
from persistence.event_details import EventDetails
from persistence.hold_repository import StoredHold, load_hold
from persistence.located_ids import mint_located_id
from persistence.tenancy import tenant_transaction

router = APIRouter()
HOLD_DECODER = msgspec.json.Decoder(HoldBody)
ACCESS_TOKEN_HEADER = "x-access-token"
PLACED = "placed"
HOLD_STATUSES: dict[hold_lifecycle.HoldStatus, HoldStatus] = {
    hold_lifecycle.HoldStatus.ACTIVE: "active",
    hold_lifecycle.HoldStatus.RELEASED: "released",
    hold_lifecycle.HoldStatus.EXPIRED: "expired",
    hold_lifecycle.HoldStatus.CONVERTED: "converted",
}


def engine_key(principal: Principal, purpose: str, key: str | None) -> str | None:
    """The engine's idempotency key: the caller's key, scoped to the caller and the purpose."""
    if key is None:
        return None
    return hashlib.sha256(f"{principal.caller}\n{purpose}\n{key}".encode()).hexdigest()


def check_admission(request: Request, details: EventDetails, fan_id: str) -> None:
    """A cancelled event admits nobody (its InventoryActor refuses too, whatever a copy of its
    details says); otherwise, with a waiting room, the fan's access token must be valid."""
    state = gateway_state(request)
    if details.cancelled:
        raise ApiError(ErrorCode.EVENT_CANCELLED, message="this event was cancelled")
    if not details.waiting_room.enabled:
        return
    token = request.headers.get(ACCESS_TOKEN_HEADER)
    if token is None:
        raise ApiError(ErrorCode.NOT_ADMITTED, message="X-Access-Token is required")
    grant = verify_access_token(
        secret=state.access_secret,
        token=token,
        event_id=str(details.location.event_id),
        fan_id=fan_id,
        now_ms=state.clock(),
    )
    if isinstance(grant, Rejected):
        raise rejection_error(grant)


def hold_command(body: HoldBody, *, hold_id: str, fan_id: str, key: str | None) -> Command:
    given = [name for name in ("items", "seats", "best_available") if getattr(body, name)]
    if len(given) != 1:
        raise invalid("give exactly one of items, seats or best_available", given=given)
    if body.items is not None:
        return PlaceHold(
            new_hold_id=hold_id,
            fan_id=fan_id,
            items=tuple(
                ItemRequest(ticket_type_id=item.ticket_type_id, quantity=item.quantity)
                for item in body.items
            ),
            idempotency_key=key,
            code=body.code,
        )
    if body.seats is not None:
        return HoldSeats(
            new_hold_id=hold_id,
            fan_id=fan_id,
            seats=tuple(body.seats),
            idempotency_key=key,
            code=body.code,
        )
    best = body.best_available
    assert best is not None
    return HoldBestAvailable(
        new_hold_id=hold_id,
        fan_id=fan_id,
        ticket_type_id=best.ticket_type_id,
        quantity=best.quantity,
        section=best.section,
        contiguous=best.contiguous,
        accessible=best.accessible,
        idempotency_key=key,
        code=body.code,
    )


def hold_view(
    *,
    hold_id: str,
    event_id: str,
    status: HoldStatus,
    expires_at_ms: int,
    items: tuple[HoldItem, ...],
    seats: tuple[str, ...],
    subtotal_cents: int,
    code: str | None,
) -> HoldView:
    return HoldView(
        hold_id=hold_id,
        event_id=event_id,
        status=status,
        expires_at=format_moment(expires_at_ms),
        items=[
            HoldItemView(
                ticket_type_id=item.ticket_type_id,
                quantity=item.quantity,
                unit_price_cents=item.unit_price_cents,
            )
            for item in items
        ],
        seats=list(seats),
        subtotal_cents=subtotal_cents,
        code=code,
    )


@router.post("/v1/events/{event_id}/holds")
async def place_hold(request: Request, event_id: str) -> Response:
    principal = await authenticate(request)
    details = await known_event(request, event_id)
    key = idempotency_key(request)
    body = decode_body(await read_body(request), HOLD_DECODER)
    check_admission(request, details, principal.caller)
    command = hold_command(
        body,
        hold_id=mint_located_id(details.location.event_number),
        fan_id=principal.caller,
        key=engine_key(principal, "hold", key),
    )
    result = (
        await gateway_state(request).clients.inventory(details.location.event_id).execute(command)
    )
    if isinstance(result, Rejected):
        hold_outcome_series(result.reason.value).inc()
        raise rejection_error(result)
    assert isinstance(result, PlacedHold), result
    hold_outcome_series(PLACED).inc()
    view = hold_view(
        hold_id=result.hold_id,
        event_id=str(details.location.event_id),
        status=HOLD_STATUSES[hold_lifecycle.HOLD_STARTING_STATUS],
        expires_at_ms=result.expires_at_ms,
        items=result.items,
        seats=result.seats,
        subtotal_cents=result.subtotal_cents,
        code=body.code if result.code_id is not None else None,
    )
    return json_response(view, status=201)


async def fans_hold(
    request: Request, principal: Principal, hold_id: str
) -> tuple[EventDetails, StoredHold]:
    """The caller's hold as Postgres has it; another fan's hold is NOT_FOUND, like no hold."""
    state = gateway_state(request)
    located_id = path_id(hold_id)
    details: EventDetails | None = await state.catalog.details_of_located_id(located_id)
    if details is not None:
        location = details.location
        async with tenant_transaction(state.database_pool, location.tenant_id) as connection:
            hold = await load_hold(connection, event_id=location.event_id, hold_id=located_id)
        if hold is not None and hold.fan_id == principal.caller:
            return details, hold
    raise ApiError(ErrorCode.NOT_FOUND, message="no such hold")


@router.get("/v1/holds/{hold_id}")
async def read_hold(request: Request, hold_id: str) -> Response:
    principal = await authenticate(request)
    _, hold = await fans_hold(request, principal, hold_id)
    seen = hold_lifecycle.hold_status_seen_at(
        hold.status, expires_at_ms=hold.expires_at_ms, now_ms=gateway_state(request).clock()
    )
    view = hold_view(
        hold_id=hold.hold_id,
        event_id=hold.event_id,
        status=HOLD_STATUSES[seen],
        expires_at_ms=hold.expires_at_ms,
        items=hold.items,
        seats=hold.seats,
        subtotal_cents=hold.subtotal_cents,
        code=hold.code,
    )
    return json_response(view)


ENDED_HOLD_MESSAGES = {
    hold_lifecycle.HoldStatus.EXPIRED: "the hold has expired",
    hold_lifecycle.HoldStatus.CONVERTED: "the hold was turned into an order",
}


@router.delete("/v1/holds/{hold_id}")
async def release_hold(request: Request, hold_id: str) -> Response:
    """204 once the hold is released, also when it already was; 410 when it ended otherwise."""
    state = gateway_state(request)
    principal = await authenticate(request)
    details, hold = await fans_hold(request, principal, hold_id)
    if hold.status is hold_lifecycle.HoldStatus.ACTIVE:
        command = ReleaseHold(
            hold_id=hold.hold_id,
            fan_id=principal.caller,
            idempotency_key=engine_key(principal, "release", hold.hold_id),
        )
        client = state.clients.inventory(details.location.event_id)
        result = await client.execute(command)
        if not isinstance(result, Rejected):
            return Response(status_code=204)
        if result.reason is not Reason.NOT_FOUND:
            raise rejection_error(result)
        async with tenant_transaction(
            state.database_pool, details.location.tenant_id
        ) as connection:
            ended = await load_hold(
                connection, event_id=details.location.event_id, hold_id=uuid.UUID(hold.hold_id)
            )
        assert ended is not None
        hold = ended
    if hold.status is hold_lifecycle.HoldStatus.RELEASED:
        return Response(status_code=204)
    raise ApiError(
        ErrorCode.HOLD_EXPIRED, message=ENDED_HOLD_MESSAGES.get(hold.status, "the hold has ended")
    )
