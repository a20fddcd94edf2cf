"""The one writer of a waiting room in Postgres: the epoch that fences it, and the commit that
records a batch of the engine's changes as the rows persistence.waiting_room_rows works out.

`write_waiting_room_changes` runs in the caller's tenant transaction: the room row first, under the
writer's epoch, then the net effect of the batch on its places, one multi-row statement per kind.
Every state move is checked against the state it leaves, so Postgres refuses what the engine
should never have decided.
"""

import uuid
from collections.abc import Iterable

import asyncpg

from engine.waiting_room.changes import WaitingRoomChange
from engine.waiting_room.rows import room_row_of
from engine.waiting_room.state import WaitingRoom
from persistence.waiting_room_reads import UnknownWaitingRoom
from persistence.waiting_room_rows import NET_STATE_MOVES, place_rows


class StaleWaitingRoomEpoch(RuntimeError):
    """Another actor took the waiting room over: this writer must stop and change nothing."""


class WaitingRoomConflict(RuntimeError):
    """Postgres holds a place in another state than the batch leaves: nothing is written, and
    the actor that decided the batch must rebuild."""


TAKE_WAITING_ROOM_EPOCH = """
INSERT INTO waiting_rooms (event_id, tenant_id, epoch, holder, opens_at_ms, admit_per_second,
                           max_active_shoppers, access_ttl_s)
SELECT id, tenant_id, 1, $2, (extract(epoch FROM opens_at) * 1000)::bigint, admit_per_second,
       max_active_shoppers, access_ttl_s
FROM events
WHERE id = $1
ON CONFLICT (event_id) DO UPDATE
    SET epoch = waiting_rooms.epoch + 1, holder = excluded.holder
RETURNING epoch
"""


async def take_waiting_room_epoch(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, holder: str
) -> int:
    """Make `holder` the room's only writer and return its epoch, one above the last.

    The first take creates the room from the event's on-sale settings. Waits for a commit in
    flight, which holds the room row. Raises UnknownWaitingRoom when the event is not visible.
    """
    epoch: int | None = await connection.fetchval(TAKE_WAITING_ROOM_EPOCH, event_id, holder)
    if epoch is None:
        raise UnknownWaitingRoom(f"no event {event_id} for this tenant")
    return epoch


UPDATE_WAITING_ROOM = """
UPDATE waiting_rooms
SET admit_per_second = $3, pre_queue_count = $4, pre_queue_closed = $5, draw_seed = $6,
    opened_at_ms = $7, head_slot = $8, admission_credit_milli = $9, credited_at_ms = $10,
    opens_at_ms = $11, max_active_shoppers = $12, access_ttl_s = $13, stock = $14,
    presale_count = $15
WHERE event_id = $1 AND epoch = $2
"""

INSERT_PLACES = """
INSERT INTO waiting_room_places (tenant_id, event_id, sequence, fan_id, slot, state,
                                 last_seen_ms, admitted_at_ms, access_expires_at_ms)
SELECT $1, $2, new.sequence, new.fan_id, new.slot, new.state, new.last_seen_ms,
       new.admitted_at_ms, new.access_expires_at_ms
FROM unnest($3::integer[], $4::text[], $5::integer[], $6::text[], $7::bigint[], $8::bigint[],
            $9::bigint[])
     AS new (sequence, fan_id, slot, state, last_seen_ms, admitted_at_ms, access_expires_at_ms)
"""

UPDATE_PLACES = """
UPDATE waiting_room_places AS places
SET slot = coalesce(new.slot, places.slot),
    state = coalesce(new.state, places.state),
    last_seen_ms = greatest(places.last_seen_ms, new.last_seen_ms),
    admitted_at_ms = coalesce(new.admitted_at_ms, places.admitted_at_ms),
    access_expires_at_ms = coalesce(new.access_expires_at_ms, places.access_expires_at_ms)
FROM unnest($2::integer[], $3::integer[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
     AS new (sequence, slot, state, last_seen_ms, admitted_at_ms, access_expires_at_ms)
WHERE places.event_id = $1
  AND places.sequence = new.sequence
  AND (new.state IS NULL OR places.state || '>' || new.state = ANY($8::text[]))
"""


async def write_waiting_room_changes(
    connection: asyncpg.Connection,
    *,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    epoch: int,
    room: WaitingRoom,
    changes: Iterable[WaitingRoomChange],
) -> None:
    """Record a batch: the room as it is after it, and the batch's effect on places.

    Raises StaleWaitingRoomEpoch, having written nothing, when `epoch` is no longer the room's,
    and WaitingRoomConflict when a place is not in a state the batch can move it from.
    """
    room_row = room_row_of(room)
    status = await connection.execute(
        UPDATE_WAITING_ROOM,
        event_id,
        epoch,
        room_row.admit_per_second,
        room_row.pre_queue_count,
        room_row.pre_queue_closed,
        room_row.draw_seed,
        room_row.opened_at_ms,
        room_row.head_slot,
        room_row.admission_credit_milli,
        room_row.credited_at_ms,
        room_row.opens_at_ms,
        room_row.max_active_shoppers,
        room_row.access_ttl_s,
        room_row.stock,
        room_row.presale_count,
    )
    if status != "UPDATE 1":
        raise StaleWaitingRoomEpoch(f"waiting room {event_id} is no longer at epoch {epoch}")
    new_places, changed_places = place_rows(changes, room)
    if new_places.sequences:
        await connection.execute(INSERT_PLACES, tenant_id, event_id, *new_places)
    if changed_places.sequences:
        status = await connection.execute(UPDATE_PLACES, event_id, *changed_places, NET_STATE_MOVES)
        if status != f"UPDATE {len(changed_places.sequences)}":
            raise WaitingRoomConflict(
                f"waiting room {event_id}: {status} of {len(changed_places.sequences)} places; "
                "a place is missing or not in a state this batch moves it from"
            )
