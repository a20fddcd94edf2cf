"""One hold as its fan reads it back, whatever became of it: active, released, expired or converted.

Only the InventoryActor writes holds (persistence/inventory_writes.py); this module reads one,
in the caller's tenant transaction, for `GET /v1/holds/{hold_id}`.
"""

import uuid

import asyncpg
import msgspec

from engine.hold_lifecycle import HoldStatus
from engine.holds import HoldItem
from persistence.inventory_reads import hold_items_of


class StoredHold(msgspec.Struct, frozen=True, kw_only=True):
    hold_id: str
    event_id: str
    fan_id: str
    status: HoldStatus
    items: tuple[HoldItem, ...]
    seats: tuple[str, ...]
    expires_at_ms: int
    subtotal_cents: int
    code: str | None = None


SELECT_HOLD = """
SELECT holds.id::text AS hold_id, holds.event_id::text AS event_id, holds.user_id, holds.status,
       holds.subtotal_cents, (extract(epoch FROM holds.expires_at) * 1000)::bigint AS expires_at_ms,
       holds.item_ticket_type_ids::text[], holds.item_quantities, holds.item_unit_prices_cents,
       codes.code
FROM holds
LEFT JOIN codes ON codes.id = holds.code_id
WHERE holds.id = $1 AND holds.event_id = $2
"""

SELECT_SEATS = """
SELECT seats.label
FROM hold_seats JOIN seats ON seats.id = hold_seats.seat_id
WHERE hold_seats.hold_id = $1 AND hold_seats.event_id = $2
ORDER BY hold_seats.position
"""


async def load_hold(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, hold_id: uuid.UUID
) -> StoredHold | None:
    row = await connection.fetchrow(SELECT_HOLD, hold_id, event_id)
    if row is None:
        return None
    seats = tuple(seat["label"] for seat in await connection.fetch(SELECT_SEATS, hold_id, event_id))
    return StoredHold(
        hold_id=row["hold_id"],
        event_id=row["event_id"],
        fan_id=row["user_id"],
        status=HoldStatus(row["status"]),
        items=hold_items_of(row),
        seats=seats,
        expires_at_ms=row["expires_at_ms"],
        subtotal_cents=row["subtotal_cents"],
        code=row["code"],
    )
