"""The venue's scanner devices over HTTP (venue_manager, admin): register one and see its token
once, list them with when each was last seen, revoke one at once.

Every route is fenced to the caller's tenant: another tenant's device does not exist for it. An
event a device is registered for must be the tenant's (VALIDATION_ERROR naming it otherwise).
"""

import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from gateway.auth import Principal
from gateway.canonical_ids import canonical_uuid
from gateway.device_schemas import DeviceBody, DeviceList, DeviceView, RegisteredDeviceView
from gateway.errors import ApiError, ErrorCode
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
from gateway.schemas import format_moment
from gateway.state import gateway_state
from persistence.scanner_devices import DeviceRecord, list_devices, revoke_device
from persistence.tenancy import tenant_transaction
from services.scanner_devices import register_device

router = APIRouter()
DEVICE_DECODER = msgspec.json.Decoder(DeviceBody)


def moment_or_none(moment_ms: int | None) -> str | None:
    return None if moment_ms is None else format_moment(moment_ms)


def device_view(device: DeviceRecord) -> DeviceView:
    return DeviceView(
        device_id=str(device.device_id),
        name=device.name,
        event_ids=[str(event_id) for event_id in device.event_ids],
        zones=list(device.zones),
        created_at=format_moment(device.created_at_ms),
        last_seen_at=moment_or_none(device.last_seen_at_ms),
        revoked_at=moment_or_none(device.revoked_at_ms),
    )


async def tenant_event_ids(
    request: Request, principal: Principal, texts: list[str]
) -> list[uuid.UUID]:
    """The events named, each the caller's tenant's, once each, in the order given."""
    catalog = gateway_state(request).catalog
    event_ids: list[uuid.UUID] = []
    for index, text in enumerate(texts):
        event_id = canonical_uuid(text)
        details = None if event_id is None else await catalog.details(event_id)
        if event_id is None or details is None or details.location.tenant_id != principal.tenant_id:
            raise invalid("event_ids names no event of the venue", field=f"event_ids[{index}]")
        if event_id not in event_ids:
            event_ids.append(event_id)
    return event_ids


@router.post("/v1/venue/devices")
async def create_device(request: Request) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        state = gateway_state(request)
        body = decode_body(raw_body, DEVICE_DECODER)
        event_ids = await tenant_event_ids(request, principal, body.event_ids or [])
        registered = await register_device(
            state.database_pool,
            tenant_id=principal.tenant_id,
            name=body.name,
            event_ids=event_ids,
            zones=list(dict.fromkeys(body.zones or [])),
            created_by=principal.caller,
            now_ms=state.clock(),
        )
        device = registered.device
        view = RegisteredDeviceView(
            device_id=str(device.device_id),
            device_token=registered.token,
            name=device.name,
            event_ids=[str(event_id) for event_id in device.event_ids],
            zones=list(device.zones),
            created_at=format_moment(device.created_at_ms),
        )
        return Response(
            content=msgspec.json.encode(view),
            status_code=201,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    return await answer_once(request, principal, raw_body, produce)


@router.get("/v1/venue/devices")
async def read_devices(request: Request) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    async with tenant_transaction(
        gateway_state(request).database_pool, principal.tenant_id
    ) as connection:
        devices = await list_devices(connection, limit=limits.DEVICES_LISTED_MAX)
    return json_response(DeviceList(devices=[device_view(device) for device in devices]))


@router.delete("/v1/venue/devices/{device_id}")
async def delete_device(request: Request, device_id: str) -> Response:
    state = gateway_state(request)
    principal = await authenticate(request, *VENUE_ROLES)
    device_uuid = path_id(device_id)
    async with tenant_transaction(state.database_pool, principal.tenant_id) as connection:
        revoked = await revoke_device(connection, device_id=device_uuid, now_ms=state.clock())
    if not revoked:
        raise ApiError(ErrorCode.NOT_FOUND, message="no such device")
    return Response(status_code=204)
