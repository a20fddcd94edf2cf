"""What Postgres says one event's inventory is, counted two ways, for the reconciliation job.

The counters on `ticket_types` are what the group commit keeps; the sums over live holds and sales
are recounted from the rows themselves. The InventoryActor compares both with its memory.
"""

import uuid

import asyncpg
import msgspec


class StoredCounts(msgspec.Struct, frozen=True, kw_only=True):
    ticket_type_id: str
    capacity: int
    held_counter: int
    sold_counter: int
    held_in_rows: int
    sold_in_rows: int
    withheld_in_rows: int


SELECT_STORED_COUNTS = """
SELECT ticket_type.id::text AS ticket_type_id,
       ticket_type.capacity,
       ticket_type.held_quantity AS held_counter,
       ticket_type.sold_quantity AS sold_counter,
       coalesce((SELECT sum(item.quantity)
                 FROM holds AS hold,
                      unnest(hold.item_ticket_type_ids, hold.item_quantities)
                          AS item (ticket_type_id, quantity)
                 WHERE hold.event_id = ticket_type.event_id AND hold.status = 'active'
                   AND item.ticket_type_id = ticket_type.id), 0)
           AS held_in_rows,
       coalesce((SELECT sum(item.quantity) FROM sale_items AS item
                 JOIN sales AS sale ON sale.order_id = item.order_id
                 WHERE item.ticket_type_id = ticket_type.id AND sale.status = 'live'), 0)
           AS sold_in_rows,
       coalesce((SELECT sum(withheld.quantity) FROM withheld_units AS withheld
                 WHERE withheld.ticket_type_id = ticket_type.id), 0)
       + (SELECT count(*) FROM seats AS seat
          WHERE seat.ticket_type_id = ticket_type.id
            AND seat.state IN ('killed', 'set_aside_comps', 'set_aside_press', 'set_aside_artists'))
           AS withheld_in_rows
FROM ticket_types AS ticket_type
WHERE ticket_type.event_id = $1
ORDER BY ticket_type.id
"""


async def count_stored_inventory(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> list[StoredCounts]:
    rows = await connection.fetch(SELECT_STORED_COUNTS, event_id)
    return [StoredCounts(**dict(row)) for row in rows]
