"""A waiting room read back from Postgres: the room row and its places, in the rows
`rebuild_waiting_room` reads. Reads only; persistence.waiting_room_writes is their one writer."""

import uuid
from decimal import Decimal

import asyncpg

from engine.stock import Stock
from engine.waiting_room.rows import PlaceRow, WaitingRoomRow
from engine.waiting_room.state import PlaceState


class UnknownWaitingRoom(LookupError):
    """No event (or no room) of this id is visible to the transaction's tenant."""


SELECT_WAITING_ROOM = """
SELECT event_id::text AS event_id, opens_at_ms, admit_per_second, max_active_shoppers,
       access_ttl_s, pre_queue_count, presale_count, pre_queue_closed, draw_seed, opened_at_ms,
       head_slot, admission_credit_milli, credited_at_ms, stock
FROM waiting_rooms
WHERE event_id = $1
"""

SELECT_PLACES = """
SELECT sequence, fan_id, slot, state, last_seen_ms, admitted_at_ms, access_expires_at_ms
FROM waiting_room_places
WHERE event_id = $1
ORDER BY sequence
"""


async def load_waiting_room(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> tuple[WaitingRoomRow, list[PlaceRow]]:
    """The room row and every place in sequence order; raises UnknownWaitingRoom without a room."""
    room = await connection.fetchrow(SELECT_WAITING_ROOM, event_id)
    if room is None:
        raise UnknownWaitingRoom(f"no waiting room for event {event_id}")
    draw_seed: Decimal | None = room["draw_seed"]
    room_row = WaitingRoomRow(
        event_id=room["event_id"],
        opens_at_ms=room["opens_at_ms"],
        admit_per_second=room["admit_per_second"],
        max_active_shoppers=room["max_active_shoppers"],
        access_ttl_s=room["access_ttl_s"],
        pre_queue_count=room["pre_queue_count"],
        presale_count=room["presale_count"],
        pre_queue_closed=room["pre_queue_closed"],
        draw_seed=None if draw_seed is None else int(draw_seed),
        opened_at_ms=room["opened_at_ms"],
        head_slot=room["head_slot"],
        admission_credit_milli=room["admission_credit_milli"],
        credited_at_ms=room["credited_at_ms"],
        stock=Stock(room["stock"]),
    )
    place_rows = [
        PlaceRow(
            sequence=row["sequence"],
            fan_id=row["fan_id"],
            slot=row["slot"],
            state=PlaceState(row["state"]),
            last_seen_ms=row["last_seen_ms"],
            admitted_at_ms=row["admitted_at_ms"],
            access_expires_at_ms=row["access_expires_at_ms"],
        )
        for row in await connection.fetch(SELECT_PLACES, event_id)
    ]
    return room_row, place_rows
