"""`decide(room, command, now_ms)`: the changes a command makes, or why not, changing nothing.

An access keeps the expiry it was granted with, whatever the settings become; admission spends a
token bucket of `admit_per_second`. A new command gets a case in `decide`.
"""

from typing import assert_never

import msgspec

from engine.ids import FanId
from engine.limits import (
    ACCESSES_EXPIRED_PER_COMMAND_MAX,
    ADMISSION_BURST_MS,
    FAN_ID_CHARACTERS_MAX,
    FANS_PER_END_ACCESS_COMMAND_MAX,
    FANS_PER_JOIN_COMMAND_MAX,
    FANS_PER_POLL_COMMAND_MAX,
    MILLISECONDS_PER_SECOND,
    PLACE_ABANDONED_AFTER_MS,
    PLACES_PASSED_PER_ADMISSION_MAX,
    WAITING_ROOM_FANS_MAX,
)
from engine.pre_queue_draw import SEED_MAX
from engine.rejections import Reason, Rejected
from engine.stock import Stock
from engine.waiting_room.changes import (
    AccessEnded,
    AccessEndReason,
    FansAdmitted,
    FansJoined,
    PlacesMovedToPresale,
    PlacesSeen,
    PreQueueDrawn,
    StockRecorded,
    WaitingRoomChange,
    WaitingRoomSettingsChanged,
)
from engine.waiting_room.commands import (
    AdmitFans,
    ChangeWaitingRoomSettings,
    EndAccess,
    ExpireAccess,
    JoinFans,
    OpenWaitingRoom,
    RecordPolls,
    RecordStock,
    WaitingRoomCommand,
)
from engine.waiting_room.configuration import WaitingRoomSettings, invalid, validate_settings
from engine.waiting_room.state import ADMITTED_CODE, PRE_QUEUE_CODE, WaitingRoom


def _fan_batch_problem(fan_ids: list[FanId], batch_size_max: int) -> Rejected | None:
    if not 1 <= len(fan_ids) <= batch_size_max:
        return invalid(f"a batch holds 1 to {batch_size_max} fans")
    for fan_id in fan_ids:
        if not 0 < len(fan_id) <= FAN_ID_CHARACTERS_MAX:
            return invalid(f"a fan id has 1 to {FAN_ID_CHARACTERS_MAX} characters", fan_id=fan_id)
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
    """The token bucket: `admit_per_second` per second, capped at ADMISSION_BURST_MS's worth."""
    rate = room.settings.admit_per_second
    earned = (at_ms - room.credited_at_ms) * rate
    return min(room.admission_credit_milli + earned, rate * ADMISSION_BURST_MS)


def _decide_join(
    room: WaitingRoom, command: JoinFans, now_ms: int
) -> list[WaitingRoomChange] | Rejected:
    """Before the opening, a presale fan joins the presale line (or moves to it from the
    pre-queue) and anyone else the pre-queue; after it, everyone queues first come first served."""
    problem = _fan_batch_problem(command.fan_ids, FANS_PER_JOIN_COMMAND_MAX)
    if problem is not None:
        return problem
    presale_fan_ids = set(command.presale_fan_ids)
    if not presale_fan_ids <= set(command.fan_ids):
        return invalid("presale fans are fans of the batch", field="presale_fan_ids")
    into_pre_queue = not room.pre_queue_closed and now_ms < room.settings.opens_at_ms
    find = room.fan_index.find
    presale_new: list[FanId] = []
    other_new: list[FanId] = []
    new_in_batch: set[FanId] = set()
    seen_sequences: list[int] = []
    moved_sequences: list[int] = []
    for fan_id in command.fan_ids:
        sequence = find(fan_id)
        is_presale = into_pre_queue and fan_id in presale_fan_ids
        if sequence >= 0:
            seen_sequences.append(sequence)
            if is_presale and room.states[sequence] == PRE_QUEUE_CODE:
                moved_sequences.append(sequence)
        elif fan_id not in new_in_batch:
            new_in_batch.add(fan_id)
            (presale_new if is_presale else other_new).append(fan_id)
    if room.fan_count + len(presale_new) + len(other_new) > WAITING_ROOM_FANS_MAX:
        return Rejected(reason=Reason.BUSY, message="the waiting room is full")
    changes: list[WaitingRoomChange] = []
    first_sequence = room.fan_count
    if presale_new:
        changes.append(
            FansJoined(
                joined_at_ms=now_ms,
                first_sequence=first_sequence,
                fan_ids=presale_new,
                into_pre_queue=False,
                presale=True,
            )
        )
        first_sequence += len(presale_new)
    if moved_sequences:
        changes.append(
            PlacesMovedToPresale(moved_at_ms=now_ms, sequences=list(dict.fromkeys(moved_sequences)))
        )
    if other_new:
        changes.append(
            FansJoined(
                joined_at_ms=now_ms,
                first_sequence=first_sequence,
                fan_ids=other_new,
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
        return invalid("the waiting room is already open")
    if now_ms < room.settings.opens_at_ms:
        return Rejected(reason=Reason.SALE_NOT_OPEN, message="the waiting room opens later")
    if not 0 <= command.draw_seed <= SEED_MAX:
        return invalid("the draw seed is a 64-bit unsigned integer", field="draw_seed")
    return [
        PreQueueDrawn(
            opened_at_ms=now_ms,
            draw_seed=command.draw_seed,
            pre_queue_count=room.pre_queue_count,
            presale_count=room.presale_count,
        )
    ]


def _decide_admit(room: WaitingRoom, now_ms: int) -> list[WaitingRoomChange]:
    """Nobody is admitted while nothing is available: an admitted fan would find nothing to buy.
    Before the opening only the presale line is admitted, at the same rate and under the same
    cap."""
    if not room.is_admitting or room.stock is not Stock.AVAILABLE:
        return []
    last_slot = room.slotted_count if room.is_open else room.presale_count
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
    slot_end = min(last_slot, room.head_slot + PLACES_PASSED_PER_ADMISSION_MAX)
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
        if room.states[sequence] != ADMITTED_CODE:
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
        if room.states[sequence] == ADMITTED_CODE
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
    credit_milli = _accrued_credit_milli(room, changed_at_ms) if room.is_admitting else 0
    burst_milli = settings.admit_per_second * ADMISSION_BURST_MS
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
        case RecordStock(stock=stock):
            if stock is room.stock:
                return []
            return [StockRecorded(recorded_at_ms=now_ms, stock=stock)]
        case _:
            assert_never(command)
