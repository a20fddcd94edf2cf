"""What the queue asks when a fan joins an invite-only queue without a code: whether the fan
already has a place. Reads only: places are written by the event's WaitingRoomActor (a code given
at the join is read with persistence.code_reads)."""

import uuid

import asyncpg

SELECT_HAS_PLACE = """
SELECT EXISTS (SELECT 1 FROM waiting_room_places WHERE event_id = $1 AND fan_id = $2)
"""


async def has_place(connection: asyncpg.Connection, *, event_id: uuid.UUID, fan_id: str) -> bool:
    """Whether the fan holds a place in the event's queue (one answered to it was committed)."""
    found: bool = await connection.fetchval(SELECT_HAS_PLACE, event_id, fan_id)
    return found
