"""The facts a waiting room records: `apply` turns them into state and persistence writes them.

A new change joins `WaitingRoomChange` and gets a case in engine.waiting_room.apply and in
persistence.waiting_room_rows.
"""

import enum

import msgspec

from engine.ids import FanId
from engine.stock import Stock


class AccessEndReason(enum.StrEnum):
    ACCESS_TTL_ELAPSED = "access_ttl_elapsed"
    FINISHED = "finished"


class FansJoined(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """New places for `fan_ids`, with sequences `first_sequence`, `first_sequence + 1` ...;
    `presale` places join the presale line (never with `into_pre_queue`)."""

    joined_at_ms: int
    first_sequence: int
    fan_ids: list[FanId]
    into_pre_queue: bool
    presale: bool = False


class PlacesMovedToPresale(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """These pre-queue places joined the end of the presale line, in this order."""

    moved_at_ms: int
    sequences: list[int]


class PlacesSeen(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    seen_at_ms: int
    sequences: list[int]


class PreQueueDrawn(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The room opened; `draw_pre_queue_order(draw_seed, pre_queue_count)` orders the pre-queue
    places (taken in join sequence order), which take the slots from `presale_count` on, ahead of
    any place that joined after `opens_at`."""

    opened_at_ms: int
    draw_seed: int
    pre_queue_count: int
    presale_count: int = 0


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


class StockRecorded(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    recorded_at_ms: int
    stock: Stock


WaitingRoomChange = (
    FansJoined
    | PlacesMovedToPresale
    | PlacesSeen
    | PreQueueDrawn
    | FansAdmitted
    | AccessEnded
    | WaitingRoomSettingsChanged
    | StockRecorded
)
