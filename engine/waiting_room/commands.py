"""What the shell asks of a waiting room; `now_ms` is passed to `decide` beside them.

A new command joins `WaitingRoomCommand` and gets a case in engine.waiting_room.decide.
"""

import msgspec

from engine.ids import FanId
from engine.stock import Stock


class JoinFans(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Give each fan a place; a fan who already has one keeps it (and counts as seen).

    `presale_fan_ids` (some of `fan_ids`) joined with a valid presale code: before the room opens
    they take places in the presale line, and one of them in the pre-queue moves to it.
    """

    fan_ids: list[FanId]
    presale_fan_ids: list[FanId] = msgspec.field(default_factory=list)


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


class RecordStock(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """What the event's inventory has left, as its InventoryActor last published it: admission
    pauses unless tickets are available, and queued places show `sold_out` once none are held."""

    stock: Stock


WaitingRoomCommand = (
    JoinFans
    | RecordPolls
    | OpenWaitingRoom
    | AdmitFans
    | ExpireAccess
    | EndAccess
    | ChangeWaitingRoomSettings
    | RecordStock
)
