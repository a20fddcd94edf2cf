"""The rows one batch of a waiting room's changes writes, worked out with no I/O: the places it
creates and the places it changes, folded in order, as the arrays the statements of
persistence.waiting_room_writes take. A place's slot is read from the room after the batch: it is
set once (at a join, a move to the presale line or the draw) and moved again only by the draw.

Pure (no asyncpg), so the fold is tested without Postgres. A new change kind gets its place effect
in `PlaceFold.fold`.
"""

from collections.abc import Iterable
from typing import NamedTuple, assert_never

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
from engine.waiting_room.state import NO_SLOT, PLACE_TRANSITIONS, PlaceState, WaitingRoom


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


class PlaceFold:
    """One batch's places, folded change by change: those it creates and those it changes, by
    sequence. `room` is the room after the batch; places from `first_joining_sequence` on join in
    this batch, and a join's own write carries their slot."""

    def __init__(self, room: WaitingRoom, first_joining_sequence: int) -> None:
        self.room = room
        self.first_joining_sequence = first_joining_sequence
        self.created: dict[int, PlaceWrite] = {}
        self.changed: dict[int, PlaceWrite] = {}

    def slot_of(self, sequence: int) -> int | None:
        slot = self.room.slot_of_sequence[sequence]
        return None if slot == NO_SLOT else slot

    def place(self, sequence: int) -> PlaceWrite:
        found = self.created.get(sequence)
        if found is None:
            found = self.changed.setdefault(sequence, PlaceWrite())
        return found

    def move(self, sequences: Iterable[int], state: PlaceState) -> list[PlaceWrite]:
        writes = [self.place(sequence) for sequence in sequences]
        for write in writes:
            write.state = state
        return writes

    def fold(self, change: WaitingRoomChange) -> None:
        match change:
            case FansJoined():
                self.join(change)
            case PlacesMovedToPresale():
                for write, sequence in zip(
                    self.move(change.sequences, PlaceState.WAITING), change.sequences, strict=True
                ):
                    write.slot = self.slot_of(sequence)
            case PlacesSeen():
                for sequence in change.sequences:
                    write = self.place(sequence)
                    if write.last_seen_ms is None or write.last_seen_ms < change.seen_at_ms:
                        write.last_seen_ms = change.seen_at_ms
            case PreQueueDrawn():
                self.draw(change)
            case FansAdmitted():
                for write in self.move(change.admitted_sequences, PlaceState.ADMITTED):
                    write.admitted_at_ms = change.admitted_at_ms
                    write.access_expires_at_ms = change.access_expires_at_ms
                self.move(change.abandoned_sequences, PlaceState.EXPIRED)
            case AccessEnded():
                self.move(change.sequences, PlaceState.EXPIRED)
            case WaitingRoomSettingsChanged() | StockRecorded():
                pass  # the room row carries them
            case _:
                assert_never(change)

    def join(self, change: FansJoined) -> None:
        state = PlaceState.PRE_QUEUE if change.into_pre_queue else PlaceState.WAITING
        for offset, fan_id in enumerate(change.fan_ids):
            sequence = change.first_sequence + offset
            self.created[sequence] = PlaceWrite(
                fan_id=fan_id,
                slot=self.slot_of(sequence),
                state=state,
                last_seen_ms=change.joined_at_ms,
            )

    def draw(self, change: PreQueueDrawn) -> None:
        """The drawn places follow the presale line; the places that joined after `opens_at`,
        before the draw, move behind them."""
        room = self.room
        drawn_end = change.presale_count + change.pre_queue_count
        for slot in range(change.presale_count, room.slotted_count):
            sequence = room.sequence_at_slot[slot]
            if sequence >= self.first_joining_sequence and sequence not in self.created:
                continue
            write = self.place(sequence)
            write.slot = slot
            if slot < drawn_end:
                write.state = PlaceState.WAITING


def place_writes(
    changes: Iterable[WaitingRoomChange], room: WaitingRoom
) -> tuple[dict[int, PlaceWrite], dict[int, PlaceWrite]]:
    """The places a batch creates and the places it changes, by sequence, folded in order;
    `room` is the room after the batch."""
    changes = list(changes)
    first_joining_sequence = min(
        (change.first_sequence for change in changes if isinstance(change, FansJoined)),
        default=room.fan_count,
    )
    fold = PlaceFold(room, first_joining_sequence)
    for change in changes:
        fold.fold(change)
    return fold.created, fold.changed


class NewPlaces(NamedTuple):
    """The places a batch creates, in sequence order."""

    sequences: list[int]
    fan_ids: list[str | None]
    slots: list[int | None]
    states: list[str | None]
    last_seen_ms: list[int | None]
    admitted_at_ms: list[int | None]
    access_expires_at_ms: list[int | None]


class ChangedPlaces(NamedTuple):
    """The places a batch changes, in sequence order; None keeps a column as it is."""

    sequences: list[int]
    slots: list[int | None]
    states: list[str | None]
    last_seen_ms: list[int | None]
    admitted_at_ms: list[int | None]
    access_expires_at_ms: list[int | None]


def place_rows(
    changes: Iterable[WaitingRoomChange], room: WaitingRoom
) -> tuple[NewPlaces, ChangedPlaces]:
    """The batch's places as the rows its two statements write; `room` is the room after it."""
    created, changed = place_writes(changes, room)
    new_sequences = sorted(created)
    new_writes = [created[sequence] for sequence in new_sequences]
    changed_sequences = sorted(changed)
    changed_writes = [changed[sequence] for sequence in changed_sequences]
    return (
        NewPlaces(
            sequences=new_sequences,
            fan_ids=[write.fan_id for write in new_writes],
            slots=[write.slot for write in new_writes],
            states=[_state_name(write.state) for write in new_writes],
            last_seen_ms=[write.last_seen_ms for write in new_writes],
            admitted_at_ms=[write.admitted_at_ms for write in new_writes],
            access_expires_at_ms=[write.access_expires_at_ms for write in new_writes],
        ),
        ChangedPlaces(
            sequences=changed_sequences,
            slots=[write.slot for write in changed_writes],
            states=[_state_name(write.state) for write in changed_writes],
            last_seen_ms=[write.last_seen_ms for write in changed_writes],
            admitted_at_ms=[write.admitted_at_ms for write in changed_writes],
            access_expires_at_ms=[write.access_expires_at_ms for write in changed_writes],
        ),
    )


def _state_name(state: PlaceState | None) -> str | None:
    return None if state is None else state.value
