"""Scanner devices a venue registers: their tokens made, shown once, and checked on every use.

A token is `sd1.<tenant id>.<device id>.<secret>`: the tenant says whose rows to read (they are
fenced by tenant), the device id which row, and the secret (32 random bytes, base64url) proves
it; only the sha256 of the secret is stored, and it is compared in constant time. A token is
good while its device is not revoked; nothing in it can sign a ticket's code.
"""

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Sequence

import asyncpg
import msgspec

from engine import limits
from engine.ticket_qr import decode_base64url, encode_base64url
from persistence.scanner_devices import (
    DeviceRecord,
    insert_device,
    load_credential,
    mark_seen,
)
from persistence.tenancy import tenant_transaction
from persistence.tenants import register_tenant

TOKEN_PREFIX = "sd1."
SECRET_BYTES = 32
UUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TOKEN_PATTERN = re.compile(rf"sd1\.({UUID_TEXT})\.({UUID_TEXT})\.([A-Za-z0-9_-]{{43}})")


class DeviceToken(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: uuid.UUID
    device_id: uuid.UUID
    secret: bytes


class RegisteredDevice(msgspec.Struct, frozen=True, kw_only=True):
    device: DeviceRecord
    token: str


def is_device_token(bearer: str) -> bool:
    """Whether a bearer token is meant as a device's (a JWT never starts so)."""
    return bearer.startswith(TOKEN_PREFIX)


def read_device_token(bearer: str) -> DeviceToken | None:
    match = TOKEN_PATTERN.fullmatch(bearer)
    if match is None:
        return None
    secret = decode_base64url(match.group(3))
    if secret is None or len(secret) != SECRET_BYTES:
        return None
    return DeviceToken(
        tenant_id=uuid.UUID(match.group(1)), device_id=uuid.UUID(match.group(2)), secret=secret
    )


def token_hash(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


async def register_device(
    pool: asyncpg.Pool,
    *,
    tenant_id: uuid.UUID,
    name: str,
    event_ids: Sequence[uuid.UUID],
    zones: Sequence[str],
    created_by: str,
    now_ms: int,
) -> RegisteredDevice:
    """A new device of the tenant and its token, which is never stored nor shown again."""
    device_id = uuid.uuid4()
    secret = secrets.token_bytes(SECRET_BYTES)
    async with tenant_transaction(pool, tenant_id) as connection:
        await register_tenant(connection, tenant_id=tenant_id)
        device = await insert_device(
            connection,
            device_id=device_id,
            name=name,
            event_ids=event_ids,
            zones=zones,
            token_hash=token_hash(secret),
            created_by=created_by,
            now_ms=now_ms,
        )
    token = f"{TOKEN_PREFIX}{tenant_id}.{device_id}.{encode_base64url(secret)}"
    assert TOKEN_PATTERN.fullmatch(token), "tenant and device ids are canonical UUID text"
    return RegisteredDevice(device=device, token=token)


async def device_of_token(
    pool: asyncpg.Pool, token: DeviceToken, *, now_ms: int
) -> DeviceRecord | None:
    """The device a token proves, its use recorded; None when the token is unknown, wrong or its
    device revoked. Read from Postgres on every use, so a revocation holds at once."""
    async with tenant_transaction(pool, token.tenant_id) as connection:
        credential = await load_credential(connection, token.device_id)
        if credential is None or credential.device.revoked_at_ms is not None:
            return None
        if not hmac.compare_digest(credential.token_hash, token_hash(token.secret)):
            return None
        last_seen_ms = credential.device.last_seen_at_ms
        if last_seen_ms is None or now_ms - last_seen_ms >= limits.DEVICE_SEEN_INTERVAL_MS:
            await mark_seen(
                connection,
                device_id=token.device_id,
                now_ms=now_ms,
                interval_ms=limits.DEVICE_SEEN_INTERVAL_MS,
            )
    return credential.device
