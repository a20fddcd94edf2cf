"""Who scans at a gate: a venue's staff, managers and admins with their own tokens, or a scanner
device the venue registered, with the device's token.

A device acts as its tenant's door staff, for the scan routes only (every other route refuses
its token as unauthenticated), and, when it was registered for some events, for those alone. Its
row is read on every request, so a revoked device is refused at once by every gateway.
"""

import msgspec
from fastapi import Request

from engine.ids import ZoneId
from gateway.auth import Principal, Role, bearer_token, unauthenticated
from gateway.client_addresses import CLIENT_ADDRESS_SCOPE_KEY
from gateway.errors import ApiError, ErrorCode
from gateway.exchange import authenticate
from gateway.rate_limits import RateLimitScope
from gateway.routes.venue import tenant_event
from gateway.state import gateway_state
from persistence.event_details import EventDetails
from persistence.scanner_devices import DeviceRecord
from services.scanner_devices import device_of_token, is_device_token, read_device_token

GATE_ROLES = (Role.VENUE_STAFF, Role.VENUE_MANAGER, Role.ADMIN)


class GateCaller(msgspec.Struct, frozen=True, kw_only=True):
    """The principal a scan is recorded under, and the device when a device token was used."""

    principal: Principal
    device: DeviceRecord | None

    def device_id(self, stated: str) -> str:
        """The device a scan is recorded as made by: the registered one, or what staff say."""
        return stated if self.device is None else str(self.device.device_id)


async def authenticate_gate(request: Request) -> GateCaller:
    """The staff member or the device behind the request, within the rate limits."""
    bearer = bearer_token(request.headers.get("authorization"))
    if not is_device_token(bearer):
        return GateCaller(principal=await authenticate(request, *GATE_ROLES), device=None)
    state = gateway_state(request)
    now_ms = state.clock()
    address = (RateLimitScope.ADDRESS, request.scope[CLIENT_ADDRESS_SCOPE_KEY])
    token = read_device_token(bearer)
    device = (
        None if token is None else await device_of_token(state.database_pool, token, now_ms=now_ms)
    )
    if token is None or device is None:
        await state.rate_limiter.enforce(address, now_ms=now_ms)
        raise unauthenticated("the device token is unknown, or its device was revoked")
    principal = Principal(
        user_id=f"device:{device.device_id}",
        tenant_id=token.tenant_id,
        roles=frozenset({Role.VENUE_STAFF}),
    )
    await state.rate_limiter.enforce(address, (RateLimitScope.FAN, principal.caller), now_ms=now_ms)
    return GateCaller(principal=principal, device=device)


def check_gate_zone(
    caller: GateCaller, details: EventDetails, zone: ZoneId | None, *, field: str = "zone"
) -> None:
    """A device registered with zones scans at those gates only: FORBIDDEN elsewhere, the main
    entrance included (a scan that names no zone). An event without zones has only its main
    entrance, where every device scans, as before entry policies."""
    device = caller.device
    if device is None or not device.zones or not details.entry.zones or zone in device.zones:
        return
    where = "the main entrance" if zone is None else f"zone {zone!r}"
    raise ApiError(
        ErrorCode.FORBIDDEN,
        message=f"this scanner device guards zones {', '.join(device.zones)}, not {where}",
        details={"device_id": str(device.device_id), "field": field},
    )


async def gate_event(request: Request, caller: GateCaller, event_id: str) -> EventDetails:
    """The event the caller may scan: its tenant's (another's is NOT_FOUND, like none), and for a
    device registered for some events, one of those (another is FORBIDDEN)."""
    details = await tenant_event(request, caller.principal, event_id)
    device = caller.device
    if (
        device is not None
        and device.event_ids
        and details.location.event_id not in device.event_ids
    ):
        raise ApiError(
            ErrorCode.FORBIDDEN,
            message="this scanner device is registered for other events of the venue",
            details={"device_id": str(device.device_id)},
        )
    return details
