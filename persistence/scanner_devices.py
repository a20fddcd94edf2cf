"""Scanner devices in Postgres: registered, listed, revoked, and read on every use.

A device row holds the sha256 of its token's secret, never the token. It is read on each use,
inside the device's tenant transaction, so a revocation committed by any gateway refuses the next
scan everywhere; `last_seen_at` is written at most once per DEVICE_SEEN_INTERVAL_MS, by a guarded
UPDATE, so a busy gate does not write its row on every scan.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec


class DeviceRecord(msgspec.Struct, frozen=True, kw_only=True):
    device_id: uuid.UUID
    name: str
    event_ids: tuple[uuid.UUID, ...]
    zones: tuple[str, ...]
    created_at_ms: int
    last_seen_at_ms: int | None
    revoked_at_ms: int | None


class DeviceCredential(msgspec.Struct, frozen=True, kw_only=True):
    """What checking a device's token needs: the hash of its secret and whether it still scans."""

    device: DeviceRecord
    token_hash: bytes


DEVICE_COLUMNS = """
id, name, event_ids, zones, token_hash,
floor(extract(epoch FROM created_at) * 1000)::bigint AS created_at_ms,
floor(extract(epoch FROM last_seen_at) * 1000)::bigint AS last_seen_at_ms,
floor(extract(epoch FROM revoked_at) * 1000)::bigint AS revoked_at_ms
"""


def _device(row: asyncpg.Record) -> DeviceRecord:
    return DeviceRecord(
        device_id=row["id"],
        name=row["name"],
        event_ids=tuple(row["event_ids"]),
        zones=tuple(row["zones"]),
        created_at_ms=row["created_at_ms"],
        last_seen_at_ms=row["last_seen_at_ms"],
        revoked_at_ms=row["revoked_at_ms"],
    )


INSERT_DEVICE = f"""
INSERT INTO scanner_devices (id, tenant_id, name, event_ids, zones, token_hash, created_by,
                             created_at)
VALUES ($1, current_setting('app.current_tenant_id')::uuid, $2, $3, $4, $5, $6,
        timestamptz 'epoch' + $7::bigint * interval '1 millisecond')
RETURNING {DEVICE_COLUMNS}
"""


async def insert_device(
    connection: asyncpg.Connection,
    *,
    device_id: uuid.UUID,
    name: str,
    event_ids: Sequence[uuid.UUID],
    zones: Sequence[str],
    token_hash: bytes,
    created_by: str,
    now_ms: int,
) -> DeviceRecord:
    row = await connection.fetchrow(
        INSERT_DEVICE,
        device_id,
        name,
        list(event_ids),
        list(zones),
        token_hash,
        created_by,
        now_ms,
    )
    return _device(row)


SELECT_DEVICES = f"""
SELECT {DEVICE_COLUMNS} FROM scanner_devices ORDER BY created_at, id LIMIT $1
"""


async def list_devices(connection: asyncpg.Connection, *, limit: int) -> list[DeviceRecord]:
    """The transaction's tenant's devices, oldest first, revoked ones included."""
    return [_device(row) for row in await connection.fetch(SELECT_DEVICES, limit)]


REVOKE_DEVICE = """
UPDATE scanner_devices
SET revoked_at = coalesce(revoked_at, timestamptz 'epoch' + $2::bigint * interval '1 millisecond')
WHERE id = $1
RETURNING 1
"""


async def revoke_device(
    connection: asyncpg.Connection, *, device_id: uuid.UUID, now_ms: int
) -> bool:
    """Revoke the device (a second revocation keeps the first moment); False when it is not the
    transaction's tenant's."""
    return await connection.fetchval(REVOKE_DEVICE, device_id, now_ms) is not None


SELECT_CREDENTIAL = f"SELECT {DEVICE_COLUMNS} FROM scanner_devices WHERE id = $1"


async def load_credential(
    connection: asyncpg.Connection, device_id: uuid.UUID
) -> DeviceCredential | None:
    row = await connection.fetchrow(SELECT_CREDENTIAL, device_id)
    if row is None:
        return None
    return DeviceCredential(device=_device(row), token_hash=row["token_hash"])


MARK_SEEN = """
UPDATE scanner_devices
SET last_seen_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
WHERE id = $1
  AND (last_seen_at IS NULL
       OR last_seen_at < timestamptz 'epoch' + $3::bigint * interval '1 millisecond')
"""


async def mark_seen(
    connection: asyncpg.Connection, *, device_id: uuid.UUID, now_ms: int, interval_ms: int
) -> None:
    """Record the device's use at `now_ms` unless one within `interval_ms` is recorded."""
    await connection.execute(MARK_SEEN, device_id, now_ms, now_ms - interval_ms)
