"""Wait-list entries as the gateway reads them: one entry for its fan, and the figures of an
event's list for its venue. The InventoryActor writes them (persistence.wait_list_writes); these
reads run in the caller's tenant transaction, so row-level security fences them.
"""

import uuid

import asyncpg
import msgspec

from engine.inventory.wait_list import WaitListStatus


class StoredWaitListEntry(msgspec.Struct, frozen=True, kw_only=True):
    """`position` counts the waiting entries ahead, while this one waits; else None."""

    entry_id: str
    event_id: str
    fan_id: str
    status: WaitListStatus
    position: int | None
    quantity: int
    ticket_type_id: str | None
    hold_id: str | None
    offer_expires_at_ms: int | None


class WaitListFigures(msgspec.Struct, frozen=True, kw_only=True):
    waiting: int = 0
    offered: int = 0
    converted: int = 0
    expired: int = 0
    left: int = 0


SELECT_ENTRY = """
SELECT entry.id::text AS entry_id, entry.event_id::text AS event_id, entry.user_id,
       entry.status, entry.quantity, entry.ticket_type_id::text AS ticket_type_id,
       entry.hold_id::text AS hold_id, entry.offer_expires_at_ms,
       CASE WHEN entry.status = 'waiting' THEN (
           SELECT count(*) FROM wait_list_entries AS ahead
           WHERE ahead.event_id = entry.event_id AND ahead.status = 'waiting'
             AND ahead.sequence < entry.sequence
       ) END AS position
FROM wait_list_entries AS entry
WHERE entry.event_id = $1 AND entry.id = $2
"""

SELECT_FIGURES = """
SELECT status, count(*) AS entries FROM wait_list_entries WHERE event_id = $1 GROUP BY status
"""


async def load_wait_list_entry(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, entry_id: uuid.UUID
) -> StoredWaitListEntry | None:
    row = await connection.fetchrow(SELECT_ENTRY, event_id, entry_id)
    if row is None:
        return None
    return StoredWaitListEntry(
        entry_id=row["entry_id"],
        event_id=row["event_id"],
        fan_id=row["user_id"],
        status=WaitListStatus(row["status"]),
        position=row["position"],
        quantity=row["quantity"],
        ticket_type_id=row["ticket_type_id"],
        hold_id=row["hold_id"],
        offer_expires_at_ms=row["offer_expires_at_ms"],
    )


async def load_wait_list_figures(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> WaitListFigures:
    counts = {
        row["status"]: row["entries"] for row in await connection.fetch(SELECT_FIGURES, event_id)
    }
    return WaitListFigures(
        **{status.value: counts.get(status.value, 0) for status in WaitListStatus}
    )
