"""Everything persistence keeps of one waiting room, and the room read back from it:
`rebuild_waiting_room(*snapshot_waiting_room(room))` equals `room`."""

import array
from collections.abc import Iterable

import msgspec

from engine.ids import FanId
from engine.stock import Stock
from engine.waiting_room.configuration import WaitingRoomSettings
from engine.waiting_room.state import (
    NEVER_ADMITTED_MS,
    NO_SLOT,
    STATE_CODES,
    STATES_BY_CODE,
    PlaceState,
    WaitingRoom,
)


class WaitingRoomRow(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    opens_at_ms: int
    admit_per_second: int
    max_active_shoppers: int
    access_ttl_s: int
    pre_queue_count: int
    presale_count: int = 0
    pre_queue_closed: bool
    draw_seed: int | None
    opened_at_ms: int | None
    head_slot: int
    admission_credit_milli: int
    credited_at_ms: int
    stock: Stock


class PlaceRow(msgspec.Struct, frozen=True, kw_only=True):
    """One fan's place; `slot` is its queue order, None while the place is in the pre-queue."""

    sequence: int
    fan_id: FanId
    slot: int | None
    state: PlaceState
    last_seen_ms: int
    admitted_at_ms: int | None
    access_expires_at_ms: int | None


def room_row_of(room: WaitingRoom) -> WaitingRoomRow:
    """The room's own row, without its places."""
    settings = room.settings
    return WaitingRoomRow(
        event_id=settings.event_id,
        opens_at_ms=settings.opens_at_ms,
        admit_per_second=settings.admit_per_second,
        max_active_shoppers=settings.max_active_shoppers,
        access_ttl_s=settings.access_ttl_s,
        pre_queue_count=room.pre_queue_count,
        presale_count=room.presale_count,
        pre_queue_closed=room.pre_queue_closed,
        draw_seed=room.draw_seed,
        opened_at_ms=room.opened_at_ms,
        head_slot=room.head_slot,
        admission_credit_milli=room.admission_credit_milli,
        credited_at_ms=room.credited_at_ms,
        stock=room.stock,
    )


def snapshot_waiting_room(room: WaitingRoom) -> tuple[WaitingRoomRow, list[PlaceRow]]:
    """Every row persistence keeps for this room, places in sequence order."""
    room_row = room_row_of(room)
    place_rows = []
    for sequence in range(room.fan_count):
        slot = room.slot_of_sequence[sequence]
        passed = NO_SLOT < slot < room.head_slot
        admitted_at_ms = room.admitted_at_ms_by_slot[slot] if passed else NEVER_ADMITTED_MS
        access_expires_at_ms = (
            room.access_expires_at_ms_by_slot[slot] if passed else NEVER_ADMITTED_MS
        )
        place_rows.append(
            PlaceRow(
                sequence=sequence,
                fan_id=room.fan_index.fan_id(sequence),
                slot=None if slot == NO_SLOT else slot,
                state=STATES_BY_CODE[room.states[sequence]],
                last_seen_ms=room.last_seen_ms[sequence],
                admitted_at_ms=None if admitted_at_ms == NEVER_ADMITTED_MS else admitted_at_ms,
                access_expires_at_ms=(
                    None if access_expires_at_ms == NEVER_ADMITTED_MS else access_expires_at_ms
                ),
            )
        )
    return room_row, place_rows


def rebuild_waiting_room(room_row: WaitingRoomRow, place_rows: Iterable[PlaceRow]) -> WaitingRoom:
    """The room as it was when these rows were written; places must come in sequence order."""
    room = WaitingRoom(
        WaitingRoomSettings(
            event_id=room_row.event_id,
            opens_at_ms=room_row.opens_at_ms,
            admit_per_second=room_row.admit_per_second,
            max_active_shoppers=room_row.max_active_shoppers,
            access_ttl_s=room_row.access_ttl_s,
        )
    )
    admitted_at_by_slot: dict[int, int] = {}
    access_expires_at_by_slot: dict[int, int] = {}
    for expected_sequence, row in enumerate(place_rows):
        assert row.sequence == expected_sequence, "place rows come in sequence order"
        assert (row.admitted_at_ms is None) == (row.access_expires_at_ms is None), row.sequence
        room.fan_index.add(row.fan_id)
        room.states.append(STATE_CODES[row.state])
        room.last_seen_ms.append(row.last_seen_ms)
        room.slot_of_sequence.append(NO_SLOT if row.slot is None else row.slot)
        if row.slot is not None and row.slot < room_row.head_slot:
            admitted_at_by_slot[row.slot] = (
                NEVER_ADMITTED_MS if row.admitted_at_ms is None else row.admitted_at_ms
            )
            access_expires_at_by_slot[row.slot] = (
                NEVER_ADMITTED_MS if row.access_expires_at_ms is None else row.access_expires_at_ms
            )
        room.active_shopper_count += row.state is PlaceState.ADMITTED
    room.sequence_at_slot.extend(
        array.array("i", (NO_SLOT,)) * sum(slot != NO_SLOT for slot in room.slot_of_sequence)
    )
    for sequence, slot in enumerate(room.slot_of_sequence):
        if slot != NO_SLOT:
            room.sequence_at_slot[slot] = sequence
    assert NO_SLOT not in room.sequence_at_slot, "slots are numbered without gaps"
    room.admitted_at_ms_by_slot.extend(
        admitted_at_by_slot[slot] for slot in range(room_row.head_slot)
    )
    room.access_expires_at_ms_by_slot.extend(
        access_expires_at_by_slot[slot] for slot in range(room_row.head_slot)
    )
    room.pre_queue_count = room_row.pre_queue_count
    room.presale_count = room_row.presale_count
    room.pre_queue_closed = room_row.pre_queue_closed
    room.draw_seed = room_row.draw_seed
    room.opened_at_ms = room_row.opened_at_ms
    room.head_slot = room_row.head_slot
    room.admission_credit_milli = room_row.admission_credit_milli
    room.credited_at_ms = room_row.credited_at_ms
    room.stock = room_row.stock
    room.advance_expiry_cursor()
    return room
