"""The waiting room of one event: places, the pre-queue draw, admission by rate and cap, expiry.

Every fan holds one place, numbered by join sequence; a queue slot orders the places. Fans who
join before `opens_at` are shuffled by the seeded draw when the room opens, later fans queue first
come first served behind them, and admission takes places from the head of the queue. An access
keeps the expiry it was granted with, whatever the settings become. `decide` never mutates;
`apply` is the only mutation (STYLE.md rule 3); a new state means a new row in PLACE_TRANSITIONS,
which the tests walk.
"""

import array
import enum
import hashlib
import sys
from collections.abc import Iterable
from typing import assert_never

import msgspec

from engine.access_tokens import issue_access_token
from engine.fan_index import FanIndex
from engine.ids import FanId
from engine.limits import (
    ACCESS_TTL_S_MAX,
    ACCESS_TTL_S_MIN,
    ACCESSES_EXPIRED_PER_COMMAND_MAX,
    ADMISSION_BURST_S,
    ADMIT_PER_SECOND_MAX,
    ADMIT_PER_SECOND_MIN,
    FAN_ID_CHARACTERS_MAX,
    FANS_PER_END_ACCESS_COMMAND_MAX,
    FANS_PER_JOIN_COMMAND_MAX,
    FANS_PER_POLL_COMMAND_MAX,
    MAX_ACTIVE_SHOPPERS_MAX,
    MAX_ACTIVE_SHOPPERS_MIN,
    PLACE_ABANDONED_AFTER_MS,
    PLACES_PASSED_PER_ADMISSION_MAX,
    WAITING_ROOM_FANS_MAX,
)
from engine.pre_queue_draw import SEED_MAX, draw_pre_queue_order
from engine.rejections import Reason, Rejected

MILLISECONDS_PER_SECOND = 1_000
NEVER_ADMITTED_MS = -1


class PlaceState(enum.StrEnum):
    PRE_QUEUE = "pre_queue"
    WAITING = "waiting"
    ADMITTED = "admitted"
    EXPIRED = "expired"


PLACE_TRANSITIONS: dict[PlaceState, frozenset[PlaceState]] = {
    PlaceState.PRE_QUEUE: frozenset({PlaceState.WAITING}),
    PlaceState.WAITING: frozenset({PlaceState.ADMITTED, PlaceState.EXPIRED}),
    PlaceState.ADMITTED: frozenset({PlaceState.EXPIRED}),
    PlaceState.EXPIRED: frozenset(),
}
assert set(PLACE_TRANSITIONS) == set(PlaceState), "every place state needs its transitions"

_STATE_CODES: dict[PlaceState, int] = {state: code for code, state in enumerate(PlaceState)}
_STATES_BY_CODE: tuple[PlaceState, ...] = tuple(PlaceState)
assert len(_STATE_CODES) == len(PlaceState)
_PRE_QUEUE = _STATE_CODES[PlaceState.PRE_QUEUE]
_WAITING = _STATE_CODES[PlaceState.WAITING]
_ADMITTED = _STATE_CODES[PlaceState.ADMITTED]
_EXPIRED = _STATE_CODES[PlaceState.EXPIRED]


class AccessEndReason(enum.StrEnum):
    ACCESS_TTL_ELAPSED = "access_ttl_elapsed"
    FINISHED = "finished"


class WaitingRoomSettings(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    opens_at_ms: int
    admit_per_second: int
    max_active_shoppers: int
    access_ttl_s: int


# Commands: what the shell asks for. `now_ms` is passed to `decide` beside them.


class JoinFans(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Give each fan a place; a fan who already has one keeps it (and counts as seen)."""

    fan_ids: list[FanId]


class RecordPolls(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """These fans are still there; a place not seen for PLACE_ABANDONED_AFTER_MS is skipped."""

    fan_ids: list[FanId]


class OpenWaitingRoom(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Draw the pre-queue order with a seed from the shell's secure random source."""

    draw_seed: int


class AdmitFans(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Admit from the head of the queue as far as the rate and the active cap allow."""


class ExpireAccess(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """End the access of admitted fans whose `access_ttl_s` has run out."""


class EndAccess(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """These admitted fans finished or left: they stop counting as active shoppers."""

    fan_ids: list[FanId]


class ChangeWaitingRoomSettings(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Change what is given, from now on: the rate, the cap on active shoppers (lowered below
    the fans shopping, it admits nobody until enough leave), the time to live of the accesses
    granted after, and `opens_at_ms` while the room has not opened (an open room keeps its)."""

    admit_per_second: int | msgspec.UnsetType = msgspec.UNSET
    max_active_shoppers: int | msgspec.UnsetType = msgspec.UNSET
    access_ttl_s: int | msgspec.UnsetType = msgspec.UNSET
    opens_at_ms: int | msgspec.UnsetType = msgspec.UNSET


WaitingRoomCommand = (
    JoinFans
    | RecordPolls
    | OpenWaitingRoom
    | AdmitFans
    | ExpireAccess
    | EndAccess
    | ChangeWaitingRoomSettings
)


# Changes: the facts `apply` records and persistence writes.


class FansJoined(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """New places for `fan_ids`, with sequences `first_sequence`, `first_sequence + 1` ..."""

    joined_at_ms: int
    first_sequence: int
    fan_ids: list[FanId]
    into_pre_queue: bool


class PlacesSeen(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    seen_at_ms: int
    sequences: list[int]


class PreQueueDrawn(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The room opened; `draw_pre_queue_order(draw_seed, pre_queue_count)` replays the order."""

    opened_at_ms: int
    draw_seed: int
    pre_queue_count: int


class FansAdmitted(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The head of the queue moved from `first_slot` over every admitted and abandoned place;
    the admitted fans' accesses end at `access_expires_at_ms`."""

    admitted_at_ms: int
    first_slot: int
    admitted_sequences: list[int]
    abandoned_sequences: list[int]
    admission_credit_milli: int
    access_expires_at_ms: int


class AccessEnded(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    ended_at_ms: int
    sequences: list[int]
    reason: AccessEndReason


class WaitingRoomSettingsChanged(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The settings from `changed_at_ms` on, every one of them, and the admission credit then."""

    changed_at_ms: int
    opens_at_ms: int
    admit_per_second: int
    max_active_shoppers: int
    access_ttl_s: int
    admission_credit_milli: int


WaitingRoomChange = (
    FansJoined
    | PlacesSeen
    | PreQueueDrawn
    | FansAdmitted
    | AccessEnded
    | WaitingRoomSettingsChanged
)


# Rows: what persistence stores and `rebuild_waiting_room` reads back.


class WaitingRoomRow(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    opens_at_ms: int
    admit_per_second: int
    max_active_shoppers: int
    access_ttl_s: int
    pre_queue_count: int
    pre_queue_closed: bool
    draw_seed: int | None
    opened_at_ms: int | None
    head_slot: int
    admission_credit_milli: int
    credited_at_ms: int


class PlaceRow(msgspec.Struct, frozen=True, kw_only=True):
    """One fan's place; `slot` is its queue order (equal to `sequence` until the draw)."""

    sequence: int
    fan_id: FanId
    slot: int
    state: PlaceState
    last_seen_ms: int
    admitted_at_ms: int | None
    access_expires_at_ms: int | None


class PlaceView(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a join or a poll, as API.md's waiting room section shapes it."""

    queue_id: str
    state: PlaceState
    position: int | None
    eta_s: int | None
    access_token: str | None


class QueueCounts(msgspec.Struct, frozen=True, kw_only=True):
    pre_queue: int
    waiting: int
    admitted: int
    admit_per_second: int


class WaitingRoom:
    """The in-memory state, in arrays indexed by join sequence or by queue slot.

    Slots before `head_slot` are decided (admitted or expired); every place from `head_slot` on is
    still waiting. `expiry_cursor` is `head_slot` or the slot of the oldest admitted fan.
    """

    __slots__ = (
        "access_expires_at_ms_by_slot",
        "active_shopper_count",
        "admission_credit_milli",
        "admitted_at_ms_by_slot",
        "credited_at_ms",
        "draw_seed",
        "expiry_cursor",
        "fan_index",
        "head_slot",
        "last_seen_ms",
        "opened_at_ms",
        "pre_queue_closed",
        "pre_queue_count",
        "sequence_at_slot",
        "settings",
        "slot_of_sequence",
        "states",
    )

    def __init__(self, settings: WaitingRoomSettings) -> None:
        self.settings = settings
        self.fan_index = FanIndex()
        self.states = bytearray()
        self.last_seen_ms = array.array("q")
        self.slot_of_sequence = array.array("i")
        self.sequence_at_slot = array.array("i")
        self.admitted_at_ms_by_slot = array.array("q")
        self.access_expires_at_ms_by_slot = array.array("q")
        self.pre_queue_count = 0
        self.pre_queue_closed = False
        self.draw_seed: int | None = None
        self.opened_at_ms: int | None = None
        self.head_slot = 0
        self.expiry_cursor = 0
        self.active_shopper_count = 0
        self.admission_credit_milli = 0
        self.credited_at_ms = 0

    @property
    def fan_count(self) -> int:
        return len(self.states)

    @property
    def is_open(self) -> bool:
        return self.opened_at_ms is not None

    def memory_bytes(self) -> int:
        arrays = (
            self.states,
            self.last_seen_ms,
            self.slot_of_sequence,
            self.sequence_at_slot,
            self.admitted_at_ms_by_slot,
            self.access_expires_at_ms_by_slot,
        )
        return self.fan_index.memory_bytes() + sum(sys.getsizeof(part) for part in arrays)


def validate_settings(settings: WaitingRoomSettings) -> Rejected | None:
    """VALIDATION_ERROR for settings outside the limits; the shell checks before creating a room."""
    bounds = {
        "admit_per_second": (settings.admit_per_second, ADMIT_PER_SECOND_MIN, ADMIT_PER_SECOND_MAX),
        "max_active_shoppers": (
            settings.max_active_shoppers,
            MAX_ACTIVE_SHOPPERS_MIN,
            MAX_ACTIVE_SHOPPERS_MAX,
        ),
        "access_ttl_s": (settings.access_ttl_s, ACCESS_TTL_S_MIN, ACCESS_TTL_S_MAX),
    }
    for field, (value, lowest, highest) in bounds.items():
        if not lowest <= value <= highest:
            return _invalid(f"{field} must be between {lowest} and {highest}", field=field)
    return None


def _invalid(message: str, **details: object) -> Rejected:
    return Rejected(reason=Reason.VALIDATION_ERROR, message=message, details=dict(details))


def _fan_batch_problem(fan_ids: list[FanId], batch_size_max: int) -> Rejected | None:
    if not 1 <= len(fan_ids) <= batch_size_max:
        return _invalid(f"a batch holds 1 to {batch_size_max} fans")
    for fan_id in fan_ids:
        if not 0 < len(fan_id) <= FAN_ID_CHARACTERS_MAX:
            return _invalid(f"a fan id has 1 to {FAN_ID_CHARACTERS_MAX} characters", fan_id=fan_id)
    return None


def _known_sequences(room: WaitingRoom, fan_ids: list[FanId]) -> list[int]:
    """Sequences of the fans that have a place, each once, in the order given."""
    find = room.fan_index.find
    sequences: list[int] = []
    seen: set[int] = set()
    for fan_id in fan_ids:
        sequence = find(fan_id)
        if sequence >= 0 and sequence not in seen:
            seen.add(sequence)
            sequences.append(sequence)
    return sequences


def _accrued_credit_milli(room: WaitingRoom, at_ms: int) -> int:
    """The token bucket: `admit_per_second` per second, capped at ADMISSION_BURST_S seconds."""
    rate = room.settings.admit_per_second
    earned = (at_ms - room.credited_at_ms) * rate
    return min(
        room.admission_credit_milli + earned, rate * MILLISECONDS_PER_SECOND * ADMISSION_BURST_S
    )


def _decide_join(
    room: WaitingRoom, command: JoinFans, now_ms: int
) -> list[WaitingRoomChange] | Rejected:
    problem = _fan_batch_problem(command.fan_ids, FANS_PER_JOIN_COMMAND_MAX)
    if problem is not None:
        return problem
    find = room.fan_index.find
    new_fan_ids: list[FanId] = []
    new_in_batch: set[FanId] = set()
    seen_sequences: list[int] = []
    for fan_id in command.fan_ids:
        sequence = find(fan_id)
        if sequence >= 0:
            seen_sequences.append(sequence)
        elif fan_id not in new_in_batch:
            new_in_batch.add(fan_id)
            new_fan_ids.append(fan_id)
    if room.fan_count + len(new_fan_ids) > WAITING_ROOM_FANS_MAX:
        return Rejected(reason=Reason.BUSY, message="the waiting room is full")
    changes: list[WaitingRoomChange] = []
    if new_fan_ids:
        into_pre_queue = not room.pre_queue_closed and now_ms < room.settings.opens_at_ms
        changes.append(
            FansJoined(
                joined_at_ms=now_ms,
                first_sequence=room.fan_count,
                fan_ids=new_fan_ids,
                into_pre_queue=into_pre_queue,
            )
        )
    if seen_sequences:
        changes.append(PlacesSeen(seen_at_ms=now_ms, sequences=list(dict.fromkeys(seen_sequences))))
    return changes


def _decide_open(
    room: WaitingRoom, command: OpenWaitingRoom, now_ms: int
) -> list[WaitingRoomChange] | Rejected:
    if room.is_open:
        return _invalid("the waiting room is already open")
    if now_ms < room.settings.opens_at_ms:
        return Rejected(reason=Reason.SALE_NOT_OPEN, message="the waiting room opens later")
    if not 0 <= command.draw_seed <= SEED_MAX:
        return _invalid("the draw seed is a 64-bit unsigned integer", field="draw_seed")
    return [
        PreQueueDrawn(
            opened_at_ms=now_ms, draw_seed=command.draw_seed, pre_queue_count=room.pre_queue_count
        )
    ]


def _decide_admit(room: WaitingRoom, now_ms: int) -> list[WaitingRoomChange]:
    if not room.is_open:
        return []
    admitted_at_ms = max(now_ms, room.credited_at_ms)
    credit_milli = _accrued_credit_milli(room, admitted_at_ms)
    # A cap lowered below the fans already shopping admits nobody until enough of them leave.
    admissions_left = max(
        0,
        min(
            credit_milli // MILLISECONDS_PER_SECOND,
            room.settings.max_active_shoppers - room.active_shopper_count,
        ),
    )
    abandoned_before_ms = admitted_at_ms - PLACE_ABANDONED_AFTER_MS
    admitted: list[int] = []
    abandoned: list[int] = []
    sequence_at_slot = room.sequence_at_slot
    last_seen_ms = room.last_seen_ms
    slot_end = min(room.fan_count, room.head_slot + PLACES_PASSED_PER_ADMISSION_MAX)
    for slot in range(room.head_slot, slot_end):
        sequence = sequence_at_slot[slot]
        if last_seen_ms[sequence] <= abandoned_before_ms:
            abandoned.append(sequence)
        elif len(admitted) < admissions_left:
            admitted.append(sequence)
        else:
            break
    if not admitted and not abandoned:
        return []
    return [
        FansAdmitted(
            admitted_at_ms=admitted_at_ms,
            first_slot=room.head_slot,
            admitted_sequences=admitted,
            abandoned_sequences=abandoned,
            admission_credit_milli=credit_milli - len(admitted) * MILLISECONDS_PER_SECOND,
            access_expires_at_ms=admitted_at_ms
            + room.settings.access_ttl_s * MILLISECONDS_PER_SECOND,
        )
    ]


def _decide_expire(room: WaitingRoom, now_ms: int) -> list[WaitingRoomChange]:
    """Accesses end in admission order, up to the first still running. After `access_ttl_s` was
    lowered, an access granted later may run out before one granted earlier: its token stops
    working on time, and it stops counting as a shopper when the earlier one ends."""
    expired: list[int] = []
    slot_end = min(room.head_slot, room.expiry_cursor + ACCESSES_EXPIRED_PER_COMMAND_MAX)
    for slot in range(room.expiry_cursor, slot_end):
        sequence = room.sequence_at_slot[slot]
        if room.states[sequence] != _ADMITTED:
            continue
        if room.access_expires_at_ms_by_slot[slot] > now_ms:
            break
        expired.append(sequence)
    if not expired:
        return []
    return [
        AccessEnded(
            ended_at_ms=now_ms, sequences=expired, reason=AccessEndReason.ACCESS_TTL_ELAPSED
        )
    ]


def _decide_end_access(
    room: WaitingRoom, command: EndAccess, now_ms: int
) -> list[WaitingRoomChange] | Rejected:
    problem = _fan_batch_problem(command.fan_ids, FANS_PER_END_ACCESS_COMMAND_MAX)
    if problem is not None:
        return problem
    admitted = [
        sequence
        for sequence in _known_sequences(room, command.fan_ids)
        if room.states[sequence] == _ADMITTED
    ]
    if not admitted:
        return []
    return [AccessEnded(ended_at_ms=now_ms, sequences=admitted, reason=AccessEndReason.FINISHED)]


def _decide_settings_change(
    room: WaitingRoom, command: ChangeWaitingRoomSettings, now_ms: int
) -> list[WaitingRoomChange] | Rejected:
    """The credit earned at the old rate is kept, up to the new rate's burst."""
    current = room.settings
    settings = WaitingRoomSettings(
        event_id=current.event_id,
        opens_at_ms=(
            current.opens_at_ms
            if room.is_open or isinstance(command.opens_at_ms, msgspec.UnsetType)
            else command.opens_at_ms
        ),
        admit_per_second=_given_or(command.admit_per_second, current.admit_per_second),
        max_active_shoppers=_given_or(command.max_active_shoppers, current.max_active_shoppers),
        access_ttl_s=_given_or(command.access_ttl_s, current.access_ttl_s),
    )
    problem = validate_settings(settings)
    if problem is not None:
        return problem
    if settings == current:
        return []
    changed_at_ms = max(now_ms, room.credited_at_ms)
    credit_milli = _accrued_credit_milli(room, changed_at_ms) if room.is_open else 0
    burst_milli = settings.admit_per_second * MILLISECONDS_PER_SECOND * ADMISSION_BURST_S
    return [
        WaitingRoomSettingsChanged(
            changed_at_ms=changed_at_ms,
            opens_at_ms=settings.opens_at_ms,
            admit_per_second=settings.admit_per_second,
            max_active_shoppers=settings.max_active_shoppers,
            access_ttl_s=settings.access_ttl_s,
            admission_credit_milli=min(credit_milli, burst_milli),
        )
    ]


def _given_or(value: int | msgspec.UnsetType, current: int) -> int:
    return current if isinstance(value, msgspec.UnsetType) else value


def decide(
    room: WaitingRoom, command: WaitingRoomCommand, now_ms: int
) -> list[WaitingRoomChange] | Rejected:
    """The changes `command` makes at `now_ms`, or why not; an empty list when there is nothing."""
    match command:
        case JoinFans():
            return _decide_join(room, command, now_ms)
        case RecordPolls():
            problem = _fan_batch_problem(command.fan_ids, FANS_PER_POLL_COMMAND_MAX)
            if problem is not None:
                return problem
            sequences = _known_sequences(room, command.fan_ids)
            return [PlacesSeen(seen_at_ms=now_ms, sequences=sequences)] if sequences else []
        case OpenWaitingRoom():
            return _decide_open(room, command, now_ms)
        case AdmitFans():
            return _decide_admit(room, now_ms)
        case ExpireAccess():
            return _decide_expire(room, now_ms)
        case EndAccess():
            return _decide_end_access(room, command, now_ms)
        case ChangeWaitingRoomSettings():
            return _decide_settings_change(room, command, now_ms)
        case _:
            assert_never(command)


def _set_state(room: WaitingRoom, sequence: int, state_code: int) -> None:
    current = _STATES_BY_CODE[room.states[sequence]]
    assert _STATES_BY_CODE[state_code] in PLACE_TRANSITIONS[current], (
        f"place {sequence} cannot go from {current} to {_STATES_BY_CODE[state_code]}"
    )
    room.states[sequence] = state_code


def _advance_expiry_cursor(room: WaitingRoom) -> None:
    cursor = room.expiry_cursor
    while cursor < room.head_slot and room.states[room.sequence_at_slot[cursor]] != _ADMITTED:
        cursor += 1
    room.expiry_cursor = cursor


def _apply_joined(room: WaitingRoom, change: FansJoined) -> None:
    assert change.first_sequence == room.fan_count, "joins apply in the order they were decided"
    count = len(change.fan_ids)
    if change.into_pre_queue:
        assert not room.pre_queue_closed
        room.pre_queue_count += count
        state_code = _PRE_QUEUE
    else:
        room.pre_queue_closed = True
        state_code = _WAITING
    add = room.fan_index.add
    for fan_id in change.fan_ids:
        add(fan_id)
    new_sequences = range(change.first_sequence, change.first_sequence + count)
    room.states += bytes((state_code,)) * count
    room.last_seen_ms.extend(array.array("q", (change.joined_at_ms,)) * count)
    room.slot_of_sequence.extend(new_sequences)
    room.sequence_at_slot.extend(new_sequences)


def _apply_seen(room: WaitingRoom, change: PlacesSeen) -> None:
    last_seen_ms = room.last_seen_ms
    for sequence in change.sequences:
        if last_seen_ms[sequence] < change.seen_at_ms:
            last_seen_ms[sequence] = change.seen_at_ms


def _apply_drawn(room: WaitingRoom, change: PreQueueDrawn) -> None:
    assert not room.is_open and change.pre_queue_count == room.pre_queue_count
    order = draw_pre_queue_order(change.draw_seed, change.pre_queue_count)
    room.sequence_at_slot[0 : change.pre_queue_count] = order
    for slot, sequence in enumerate(order):
        room.slot_of_sequence[sequence] = slot
    room.states[0 : change.pre_queue_count] = bytes((_WAITING,)) * change.pre_queue_count
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
            _set_state(room, sequence, _ADMITTED)
            room.admitted_at_ms_by_slot.append(change.admitted_at_ms)
            room.access_expires_at_ms_by_slot.append(change.access_expires_at_ms)
            next_admitted = next(admitted, None)
        else:
            assert sequence == next_abandoned, f"slot {slot} is neither admitted nor abandoned"
            _set_state(room, sequence, _EXPIRED)
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
    _advance_expiry_cursor(room)


def _apply_access_ended(room: WaitingRoom, change: AccessEnded) -> None:
    for sequence in change.sequences:
        _set_state(room, sequence, _EXPIRED)
    room.active_shopper_count -= len(change.sequences)
    assert room.active_shopper_count >= 0
    _advance_expiry_cursor(room)


def apply(room: WaitingRoom, change: WaitingRoomChange) -> None:
    """Records one change decided for this room: the only place its state changes."""
    match change:
        case FansJoined():
            _apply_joined(room, change)
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
            if room.is_open:
                room.credited_at_ms = change.changed_at_ms
        case _:
            assert_never(change)


def queue_id_for(event_id: str, sequence: int) -> str:
    """A UUID (version 8, derived) naming a place: the same event and sequence, the same id."""
    digest = bytearray(hashlib.sha256(f"{event_id}/{sequence}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def position_of(room: WaitingRoom, sequence: int) -> int | None:
    """Fans ahead of this place (0 = next), or None when it is not waiting."""
    if room.states[sequence] != _WAITING:
        return None
    return room.slot_of_sequence[sequence] - room.head_slot


def eta_s_for(room: WaitingRoom, position: int | None) -> int | None:
    """Seconds until admission if the rate holds: it falls as the head moves and never rises."""
    if position is None:
        return None
    return position // room.settings.admit_per_second + 1


def describe_place(
    room: WaitingRoom, fan_id: FanId, now_ms: int, *, access_secret: bytes
) -> PlaceView | Rejected:
    """The fan's place as the API shows it; an access whose TTL ran out shows as expired."""
    sequence = room.fan_index.find(fan_id)
    if sequence < 0:
        return Rejected(reason=Reason.NOT_FOUND, message="this fan has no place in the queue")
    state = _STATES_BY_CODE[room.states[sequence]]
    access_token: str | None = None
    if state is PlaceState.ADMITTED:
        expires_at_ms = room.access_expires_at_ms_by_slot[room.slot_of_sequence[sequence]]
        if now_ms >= expires_at_ms:
            state = PlaceState.EXPIRED
        else:
            access_token = issue_access_token(
                secret=access_secret,
                event_id=room.settings.event_id,
                fan_id=fan_id,
                expires_at_ms=expires_at_ms,
            )
    position = position_of(room, sequence)
    return PlaceView(
        queue_id=queue_id_for(room.settings.event_id, sequence),
        state=state,
        position=position,
        eta_s=eta_s_for(room, position),
        access_token=access_token,
    )


def count_places(room: WaitingRoom) -> QueueCounts:
    """The stats endpoint's `queue` figures."""
    if room.is_open:
        pre_queue = 0
        waiting = room.fan_count - room.head_slot
    else:
        pre_queue = room.pre_queue_count
        waiting = room.fan_count - room.pre_queue_count
    return QueueCounts(
        pre_queue=pre_queue,
        waiting=waiting,
        admitted=room.active_shopper_count,
        admit_per_second=room.settings.admit_per_second,
    )


def snapshot_waiting_room(room: WaitingRoom) -> tuple[WaitingRoomRow, list[PlaceRow]]:
    """Every row persistence keeps for this room, places in sequence order."""
    settings = room.settings
    room_row = WaitingRoomRow(
        event_id=settings.event_id,
        opens_at_ms=settings.opens_at_ms,
        admit_per_second=settings.admit_per_second,
        max_active_shoppers=settings.max_active_shoppers,
        access_ttl_s=settings.access_ttl_s,
        pre_queue_count=room.pre_queue_count,
        pre_queue_closed=room.pre_queue_closed,
        draw_seed=room.draw_seed,
        opened_at_ms=room.opened_at_ms,
        head_slot=room.head_slot,
        admission_credit_milli=room.admission_credit_milli,
        credited_at_ms=room.credited_at_ms,
    )
    place_rows = []
    for sequence in range(room.fan_count):
        slot = room.slot_of_sequence[sequence]
        passed = slot < room.head_slot
        admitted_at_ms = room.admitted_at_ms_by_slot[slot] if passed else NEVER_ADMITTED_MS
        access_expires_at_ms = (
            room.access_expires_at_ms_by_slot[slot] if passed else NEVER_ADMITTED_MS
        )
        place_rows.append(
            PlaceRow(
                sequence=sequence,
                fan_id=room.fan_index.fan_id(sequence),
                slot=slot,
                state=_STATES_BY_CODE[room.states[sequence]],
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
        room.states.append(_STATE_CODES[row.state])
        room.last_seen_ms.append(row.last_seen_ms)
        room.slot_of_sequence.append(row.slot)
        if row.slot < room_row.head_slot:
            admitted_at_by_slot[row.slot] = (
                NEVER_ADMITTED_MS if row.admitted_at_ms is None else row.admitted_at_ms
            )
            access_expires_at_by_slot[row.slot] = (
                NEVER_ADMITTED_MS if row.access_expires_at_ms is None else row.access_expires_at_ms
            )
        room.active_shopper_count += row.state is PlaceState.ADMITTED
    room.sequence_at_slot.extend(range(room.fan_count))
    for sequence, slot in enumerate(room.slot_of_sequence):
        room.sequence_at_slot[slot] = sequence
    room.admitted_at_ms_by_slot.extend(
        admitted_at_by_slot[slot] for slot in range(room_row.head_slot)
    )
    room.access_expires_at_ms_by_slot.extend(
        access_expires_at_by_slot[slot] for slot in range(room_row.head_slot)
    )
    room.pre_queue_count = room_row.pre_queue_count
    room.pre_queue_closed = room_row.pre_queue_closed
    room.draw_seed = room_row.draw_seed
    room.opened_at_ms = room_row.opened_at_ms
    room.head_slot = room_row.head_slot
    room.admission_credit_milli = room_row.admission_credit_milli
    room.credited_at_ms = room_row.credited_at_ms
    _advance_expiry_cursor(room)
    return room
