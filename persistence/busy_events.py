"""The events whose actors must run now, whether anyone calls them: the supervisor starts them.

A new reason for an event's actors to run joins `SELECT_BUSY_EVENTS` as a column of `BusyEvent`.
"""

import uuid

import asyncpg
import msgspec


class BusyEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event whose actors must run whether anyone calls them: its inventory has live holds
    to end on time, or its waiting room (of a sale not yet closed) has fans waiting."""

    event_id: uuid.UUID
    tenant_id: uuid.UUID
    has_live_holds: bool
    has_fans_waiting: bool


SELECT_BUSY_EVENTS = """
WITH holding AS (SELECT DISTINCT event_id FROM holds WHERE status = 'active'),
     queueing AS (
         SELECT rooms.event_id FROM waiting_rooms AS rooms
         JOIN events ON events.id = rooms.event_id
         WHERE events.waiting_room_enabled AND events.closes_at > now()
           AND (SELECT max(place.sequence) + 1 FROM waiting_room_places AS place
                WHERE place.event_id = rooms.event_id) > rooms.head_slot)
SELECT events.id, events.tenant_id,
       events.id IN (SELECT event_id FROM holding) AS has_live_holds,
       events.id IN (SELECT event_id FROM queueing) AS has_fans_waiting
FROM events
WHERE events.id IN (SELECT event_id FROM holding UNION SELECT event_id FROM queueing)
ORDER BY events.id
"""


async def list_busy_events(connection: asyncpg.Connection) -> list[BusyEvent]:
    """The current tenant's events whose actors must run now (BusyEvent)."""
    rows = await connection.fetch(SELECT_BUSY_EVENTS)
    return [
        BusyEvent(
            event_id=row["id"],
            tenant_id=row["tenant_id"],
            has_live_holds=row["has_live_holds"],
            has_fans_waiting=row["has_fans_waiting"],
        )
        for row in rows
    ]
