"""The waiting room of one event in Postgres: the epoch that fences its writer, the commit that
records a batch of the engine's changes, and the rows `rebuild_waiting_room` reads back.

`write_waiting_room_changes` runs in the caller's tenant transaction: the room row first, under the
writer's epoch, then the net effect of the batch on its places, one multi-row statement per kind.
Every state move is checked against the state it leaves, so Postgres refuses what the engine
should never have decided. A new change kind gets its place effect in `place_writes`.
"""

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import assert_never

import asyncpg

from engine.pre_queue_draw import draw_pre_queue_order
from engine.waiting_room.changes import (
    AccessEnded,
    FansAdmitted,
    FansJoined,
    PlacesSeen,
    PreQueueDrawn,
    WaitingRoomChange,
    WaitingRoomSettingsChanged,
)
from engine.waiting_room.rows import PlaceRow, WaitingRoomRow
from engine.waiting_room.state import PLACE_TRANSITIONS, PlaceState


class StaleWaitingRoomEpoch(RuntimeError):
    """Another actor took the waiting room over: this writer must stop and change nothing."""


class UnknownWaitingRoom(LookupError):
    """No event (or no room) of this id is visible to the transaction's tenant."""


class WaitingRoomConflict(RuntimeError):
    """Postgres holds a place in another state than the batch leaves: nothing is written, and
    the actor that decided the batch must rebuild."""


def _reachable_states(state: PlaceState) -> set[PlaceState]:
    reached: set[PlaceState] = set()
    frontier = list(PLACE_TRANSITIONS[state])
    while frontier:
        next_state = frontier.pop()
        if next_state not in reached:
            reached.add(next_state)
            frontier.extend(PLACE_TRANSITIONS[next_state])
    return reached


# The net moves one batch may make: any state reachable through PLACE_TRANSITIONS, never a stay.
NET_STATE_MOVES = sorted(
    f"{state}>{reached}" for state in PlaceState for reached in _reachable_states(state)
)


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


SELECT_WAITING_ROOM = """
SELECT event_id::text AS event_id, opens_at_ms, admit_per_second, max_active_shoppers,
       access_ttl_s, pre_queue_count, pre_queue_closed, draw_seed, opened_at_ms, head_slot,
       admission_credit_milli, credited_at_ms
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
        pre_queue_closed=room["pre_queue_closed"],
        draw_seed=None if draw_seed is None else int(draw_seed),
        opened_at_ms=room["opened_at_ms"],
        head_slot=room["head_slot"],
        admission_credit_milli=room["admission_credit_milli"],
        credited_at_ms=room["credited_at_ms"],
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


class PlaceWrite:
    """The net effect of a batch on one place; None leaves a column of an existing place as is."""

    __slots__ = (
        "access_expires_at_ms",
        "admitted_at_ms",
        "fan_id",
        "last_seen_ms",
        "slot",
        "state",
    )

    def __init__(
        self,
        *,
        fan_id: str | None = None,
        slot: int | None = None,
        state: PlaceState | None = None,
        last_seen_ms: int | None = None,
    ) -> None:
        self.fan_id = fan_id
        self.slot = slot
        self.state = state
        self.last_seen_ms = last_seen_ms
        self.admitted_at_ms: int | None = None
        self.access_expires_at_ms: int | None = None


def place_writes(
    changes: Iterable[WaitingRoomChange],
) -> tuple[dict[int, PlaceWrite], dict[int, PlaceWrite]]:
    """The places a batch creates and the places it changes, by sequence, folded in order."""
    created: dict[int, PlaceWrite] = {}
    changed: dict[int, PlaceWrite] = {}

    def place(sequence: int) -> PlaceWrite:
        found = created.get(sequence)
        if found is None:
            found = changed.setdefault(sequence, PlaceWrite())
        return found

    def move(sequences: Iterable[int], state: PlaceState) -> list[PlaceWrite]:
        writes = [place(sequence) for sequence in sequences]
        for write in writes:
            write.state = state
        return writes

    for change in changes:
        match change:
            case FansJoined():
                state = PlaceState.PRE_QUEUE if change.into_pre_queue else PlaceState.WAITING
                for offset, fan_id in enumerate(change.fan_ids):
                    sequence = change.first_sequence + offset
                    created[sequence] = PlaceWrite(
                        fan_id=fan_id, slot=sequence, state=state, last_seen_ms=change.joined_at_ms
                    )
            case PlacesSeen():
                for sequence in change.sequences:
                    write = place(sequence)
                    if write.last_seen_ms is None or write.last_seen_ms < change.seen_at_ms:
                        write.last_seen_ms = change.seen_at_ms
            case PreQueueDrawn():
                order = draw_pre_queue_order(change.draw_seed, change.pre_queue_count)
                for slot, sequence in enumerate(order):
                    write = place(sequence)
                    write.slot = slot
                    write.state = PlaceState.WAITING
            case FansAdmitted():
                for write in move(change.admitted_sequences, PlaceState.ADMITTED):
                    write.admitted_at_ms = change.admitted_at_ms
                    write.access_expires_at_ms = change.access_expires_at_ms
                move(change.abandoned_sequences, PlaceState.EXPIRED)
            case AccessEnded():
                move(change.sequences, PlaceState.EXPIRED)
            case WaitingRoomSettingsChanged():
                pass
            case _:
                assert_never(change)
    return created, changed


UPDATE_WAITING_ROOM = """
UPDATE waiting_rooms
SET admit_per_second = $3, pre_queue_count = $4, pre_queue_closed = $5, draw_seed = $6,
    opened_at_ms = $7, head_slot = $8, admission_credit_milli = $9, credited_at_ms = $10,
    opens_at_ms = $11, max_active_shoppers = $12, access_ttl_s = $13
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


def _state_name(state: PlaceState | None) -> str | None:
    return None if state is None else state.value


async def write_waiting_room_changes(
    connection: asyncpg.Connection,
    *,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    epoch: int,
    room_row: WaitingRoomRow,
    changes: Iterable[WaitingRoomChange],
) -> None:
    """Record a batch: the room as `room_row` says after it, and the batch's effect on places.

    Raises StaleWaitingRoomEpoch, having written nothing, when `epoch` is no longer the room's,
    and WaitingRoomConflict when a place is not in a state the batch can move it from.
    """
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
    )
    if status != "UPDATE 1":
        raise StaleWaitingRoomEpoch(f"waiting room {event_id} is no longer at epoch {epoch}")
    created, changed = place_writes(changes)
    if created:
        sequences = sorted(created)
        writes = [created[sequence] for sequence in sequences]
        await connection.execute(
            INSERT_PLACES,
            tenant_id,
            event_id,
            sequences,
            [write.fan_id for write in writes],
            [write.slot for write in writes],
            [_state_name(write.state) for write in writes],
            [write.last_seen_ms for write in writes],
            [write.admitted_at_ms for write in writes],
            [write.access_expires_at_ms for write in writes],
        )
    if changed:
        sequences = sorted(changed)
        writes = [changed[sequence] for sequence in sequences]
        status = await connection.execute(
            UPDATE_PLACES,
            event_id,
            sequences,
            [write.slot for write in writes],
            [_state_name(write.state) for write in writes],
            [write.last_seen_ms for write in writes],
            [write.admitted_at_ms for write in writes],
            [write.access_expires_at_ms for write in writes],
            NET_STATE_MOVES,
        )
        if status != f"UPDATE {len(writes)}":
            raise WaitingRoomConflict(
                f"waiting room {event_id}: {status} of {len(writes)} places; "
                "a place is missing or not in a state this batch moves it from"
            )
