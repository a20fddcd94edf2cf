"""An event's inventory figures read from Postgres, for the read paths (stats, listings, the seat
map) of an event whose InventoryActor is not running: reading must never start one.

The counts come from the counters the group commit keeps on `ticket_types` and from the withheld
stock; the seats, when asked for, from the whole inventory rebuilt in memory, as an actor would.
An event without a running actor has no hold that its actor would still have to end, so these are
the figures its actor would show.
"""

import uuid

import asyncpg
import msgspec

from engine.inventory.state import Inventory
from engine.inventory.unit_counts import TicketTypeCounts
from persistence.inventory_reads import load_inventory_rows


class StoredInventory(msgspec.Struct, frozen=True, kw_only=True):
    """`seat_states` is one byte a seat in seat-map order, empty unless asked for."""

    paused: bool
    counts: list[TicketTypeCounts]
    seat_states: bytes


SELECT_COUNTS = """
SELECT ticket_type.id::text AS ticket_type_id, ticket_type.capacity,
       ticket_type.held_quantity AS held, ticket_type.sold_quantity AS sold,
       coalesce((SELECT sum(withheld.quantity) FROM withheld_units AS withheld
                 WHERE withheld.ticket_type_id = ticket_type.id), 0)
       + (SELECT count(*) FROM seats AS seat
          WHERE seat.ticket_type_id = ticket_type.id
            AND seat.state IN ('killed', 'set_aside_comps', 'set_aside_press', 'set_aside_artists'))
           AS withheld,
       events.status = 'paused' AS paused
FROM ticket_types AS ticket_type JOIN events ON events.id = ticket_type.event_id
WHERE ticket_type.event_id = $1
ORDER BY ticket_type.position
"""


async def load_stored_inventory(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, include_seats: bool
) -> StoredInventory:
    if include_seats:
        inventory = Inventory.rebuild(await load_inventory_rows(connection, event_id=event_id))
        return StoredInventory(
            paused=inventory.paused,
            counts=[inventory.ticket_type_counts(type_id) for type_id in inventory.ticket_types],
            seat_states=bytes(inventory.seat_states.states),
        )
    rows = await connection.fetch(SELECT_COUNTS, event_id)
    return StoredInventory(
        paused=bool(rows and rows[0]["paused"]),
        counts=[
            TicketTypeCounts(
                ticket_type_id=row["ticket_type_id"],
                capacity=row["capacity"],
                available=row["capacity"] - row["held"] - row["sold"] - row["withheld"],
                held=row["held"],
                sold=row["sold"],
                withheld=row["withheld"],
            )
            for row in rows
        ],
        seat_states=b"",
    )
