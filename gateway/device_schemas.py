"""The bodies of the scanner devices' routes (API.md "The door"), as msgspec Structs.

As in gateway/schemas.py, requests forbid unknown fields and the OpenAPI document is generated
from these Structs.
"""

from typing import Annotated

from msgspec import Meta

from engine import limits
from gateway.schemas import Identifier, Request, Response, ZoneId

DeviceName = Annotated[
    str, Meta(min_length=1, max_length=limits.DEVICE_NAME_CHARACTERS_MAX, pattern=r"\S")
]


class DeviceBody(Request):
    """A scanner device for the venue's gates. `event_ids` limits it to some of the tenant's
    events (all of them when left out); `zones` are the zones it guards."""

    name: DeviceName
    event_ids: (
        Annotated[list[Identifier], Meta(min_length=1, max_length=limits.DEVICE_EVENTS_MAX)] | None
    ) = None
    zones: Annotated[list[ZoneId], Meta(max_length=limits.DEVICE_ZONES_MAX)] | None = None


class DeviceView(Response):
    """A registered device; its token is never shown again after registration."""

    device_id: str
    name: str
    event_ids: list[str]
    zones: list[str]
    created_at: str
    last_seen_at: str | None
    revoked_at: str | None


class RegisteredDeviceView(Response):
    """The new device and its token, shown this once: the device sends it as
    `Authorization: Bearer <device_token>` to scan, read the manifest and upload offline scans."""

    device_id: str
    device_token: str
    name: str
    event_ids: list[str]
    zones: list[str]
    created_at: str


class DeviceList(Response):
    """The tenant's devices, oldest first, revoked ones included."""

    devices: list[DeviceView]
