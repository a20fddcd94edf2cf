"""`apply(room, change)`: the only code that changes a waiting room, one recorded change at a time
(STYLE.md rule 3); every move of a place is checked against PLACE_TRANSITIONS.

A new kind of change gets its case here; `assert_never` keeps the match exhaustive.
"""

import array
from typing import assert_never

import msgspec

from engine.pre_queue_draw import draw_pre_queue_order
from engine.waiting_room.changes import (
    AccessEnded,
    FansAdmitted,
    FansJoined,
    PlacesMovedToPresale,
    PlacesSeen,
    PreQueueDrawn,
    StockRecorded,
    WaitingRoomChange,
    WaitingRoomSettingsChanged,
)
from engine.waiting_room.state import (
    ADMITTED_CODE,
    EXPIRED_CODE,
    NEVER_ADMITTED_MS,
    NO_SLOT,
    PLACE_TRANSITIONS,
    PRE_QUEUE_CODE,
    STATES_BY_CODE,
    WAITING_CODE,
    WaitingRoom,
)


def _set_state(room: WaitingRoom, sequence: int, state_code: int) -> None:
    current = STATES_BY_CODE[room.states[sequence]]
    assert STATES_BY_CODE[state_code] in PLACE_TRANSITIONS[current], (
        f"place {sequence} cannot go from {current} to {STATES_BY_CODE[state_code]}"
    )
    room.states[sequence] = state_code


def _apply_joined(room: WaitingRoom, change: FansJoined) -> None:
    assert change.first_sequence == room.fan_count, "joins apply in the order they were decided"
    count = len(change.fan_ids)
    if change.presale:
        assert not change.into_pre_queue and not room.pre_queue_closed, "presale is before opening"
        assert room.slotted_count == room.presale_count, "the presale line comes first"
        room.presale_count += count
        state_code = WAITING_CODE
    elif change.into_pre_queue:
        assert not room.pre_queue_closed
        room.pre_queue_count += count
        state_code = PRE_QUEUE_CODE
    else:
        room.pre_queue_closed = True
        state_code = WAITING_CODE
    add = room.fan_index.add
    for fan_id in change.fan_ids:
        add(fan_id)
    new_sequences = range(change.first_sequence, change.first_sequence + count)
    room.states += bytes((state_code,)) * count
    room.last_seen_ms.extend(array.array("q", (change.joined_at_ms,)) * count)
    if state_code == PRE_QUEUE_CODE:
        room.slot_of_sequence.extend(array.array("i", (NO_SLOT,)) * count)
    else:
        first_slot = room.slotted_count
        room.slot_of_sequence.extend(range(first_slot, first_slot + count))
        room.sequence_at_slot.extend(new_sequences)


def _apply_moved_to_presale(room: WaitingRoom, change: PlacesMovedToPresale) -> None:
    assert not room.pre_queue_closed and room.slotted_count == room.presale_count
    for sequence in change.sequences:
        _set_state(room, sequence, WAITING_CODE)
        room.slot_of_sequence[sequence] = room.slotted_count
        room.sequence_at_slot.append(sequence)
    room.presale_count += len(change.sequences)
    room.pre_queue_count -= len(change.sequences)
    assert room.pre_queue_count >= 0


def _apply_seen(room: WaitingRoom, change: PlacesSeen) -> None:
    last_seen_ms = room.last_seen_ms
    for sequence in change.sequences:
        if last_seen_ms[sequence] < change.seen_at_ms:
            last_seen_ms[sequence] = change.seen_at_ms


def pre_queue_sequences(room: WaitingRoom) -> list[int]:
    """The places still in the pre-queue, in join sequence order: what the draw shuffles."""
    states = room.states
    return [sequence for sequence in range(room.fan_count) if states[sequence] == PRE_QUEUE_CODE]


def _apply_drawn(room: WaitingRoom, change: PreQueueDrawn) -> None:
    assert not room.is_open and change.pre_queue_count == room.pre_queue_count
    assert change.presale_count == room.presale_count and room.head_slot <= room.presale_count
    pre_queue = pre_queue_sequences(room)
    assert len(pre_queue) == change.pre_queue_count
    order = draw_pre_queue_order(change.draw_seed, change.pre_queue_count)
    drawn = array.array("i", (pre_queue[index] for index in order))
    first_slot = room.presale_count
    joined_after_opening = room.sequence_at_slot[first_slot:]
    room.sequence_at_slot[first_slot:] = drawn + joined_after_opening
    for slot in range(first_slot, room.slotted_count):
        room.slot_of_sequence[room.sequence_at_slot[slot]] = slot
    for sequence in drawn:
        room.states[sequence] = WAITING_CODE
    room.pre_queue_closed = True
    room.draw_seed = change.draw_seed
    room.opened_at_ms = change.opened_at_ms
    room.credited_at_ms = change.opened_at_ms
    room.admission_credit_milli = 0


def _apply_admitted(room: WaitingRoom, change: FansAdmitted) -> None:
    assert change.first_slot == room.head_slot, "admissions apply in the order they were decided"
    admitted = iter(change.admitted_sequences)
    abandoned = iter(change.abandoned_sequences)
    next_admitted = next(admitted, None)
    next_abandoned = next(abandoned, None)
    passed = len(change.admitted_sequences) + len(change.abandoned_sequences)
    for slot in range(change.first_slot, change.first_slot + passed):
        sequence = room.sequence_at_slot[slot]
        if sequence == next_admitted:
            _set_state(room, sequence, ADMITTED_CODE)
            room.admitted_at_ms_by_slot.append(change.admitted_at_ms)
            room.access_expires_at_ms_by_slot.append(change.access_expires_at_ms)
            next_admitted = next(admitted, None)
        else:
            assert sequence == next_abandoned, f"slot {slot} is neither admitted nor abandoned"
            _set_state(room, sequence, EXPIRED_CODE)
            room.admitted_at_ms_by_slot.append(NEVER_ADMITTED_MS)
            room.access_expires_at_ms_by_slot.append(NEVER_ADMITTED_MS)
            next_abandoned = next(abandoned, None)
    room.head_slot += passed
    room.active_shopper_count += len(change.admitted_sequences)
    # Passing abandoned places admits nobody, so it may happen above a cap lowered meanwhile.
    assert (
        not change.admitted_sequences
        or room.active_shopper_count <= room.settings.max_active_shoppers
    )
    room.admission_credit_milli = change.admission_credit_milli
    room.credited_at_ms = change.admitted_at_ms
    room.advance_expiry_cursor()


def _apply_access_ended(room: WaitingRoom, change: AccessEnded) -> None:
    for sequence in change.sequences:
        _set_state(room, sequence, EXPIRED_CODE)
    room.active_shopper_count -= len(change.sequences)
    assert room.active_shopper_count >= 0
    room.advance_expiry_cursor()


def apply(room: WaitingRoom, change: WaitingRoomChange) -> None:
    """Records one change decided for this room: the only place its state changes."""
    match change:
        case FansJoined():
            _apply_joined(room, change)
        case PlacesMovedToPresale():
            _apply_moved_to_presale(room, change)
        case PlacesSeen():
            _apply_seen(room, change)
        case PreQueueDrawn():
            _apply_drawn(room, change)
        case FansAdmitted():
            _apply_admitted(room, change)
        case AccessEnded():
            _apply_access_ended(room, change)
        case WaitingRoomSettingsChanged():
            room.settings = msgspec.structs.replace(
                room.settings,
                opens_at_ms=change.opens_at_ms,
                admit_per_second=change.admit_per_second,
                max_active_shoppers=change.max_active_shoppers,
                access_ttl_s=change.access_ttl_s,
            )
            room.admission_credit_milli = change.admission_credit_milli
            if room.is_admitting:
                room.credited_at_ms = change.changed_at_ms
        case StockRecorded():
            room.stock = change.stock
        case _:
            assert_never(change)
