"""The facts the inventory records, past tense, one tagged union: what persistence writes.

`engine.inventory.apply` is the only code that turns a change into state, and `decide` the only
code that creates one. A change is self-sufficient for its table rows: ids, quantities, seat ids
and money are in it. Messages are `gc=False` (no cycles; the cycle collector skips them). Add a
change here, to `Change`, and to the `match` in `apply`.
"""

from typing import TypeAlias

import msgspec

from engine.commands import Withholding
from engine.holds import Hold, Sale
from engine.ids import HoldId, IdempotencyKey, OrderId, SeatId, TicketTypeId
from engine.outcomes import IdempotencyRecord
from engine.pricing import Price


class HoldPlaced(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    hold: Hold


class HoldReleased(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    hold_id: HoldId


class HoldsExpired(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    hold_ids: tuple[HoldId, ...]


class HoldExtended(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    hold_id: HoldId
    expires_at_ms: int


class HoldConverted(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    hold_id: HoldId
    sale: Sale
    price: Price


class OrderRefunded(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    order_id: OrderId


class OrderCancelled(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    order_id: OrderId


class CompsIssued(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    sale: Sale
    allocation: Withholding


class SeatsBlocked(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    seats: tuple[SeatId, ...]
    withholding: Withholding


class SeatsUnblocked(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    seats: tuple[SeatId, ...]


class UnitsWithheld(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    ticket_type_id: TicketTypeId
    quantity: int
    withholding: Withholding


class WithheldUnitsReturned(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    ticket_type_id: TicketTypeId
    quantity: int
    withholding: Withholding


class SalePaused(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    pass


class SaleResumed(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    pass


class SaleSettingsChanged(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """The sale's settings as they are from now on, every one of them."""

    opens_at_ms: int
    closes_at_ms: int
    hold_ttl_ms: int
    max_tickets_per_user: int | None


class IdempotencyKeyRecorded(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    record: IdempotencyRecord


class IdempotencyKeysForgotten(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    keys: tuple[IdempotencyKey, ...]


Change: TypeAlias = (
    HoldPlaced
    | HoldReleased
    | HoldsExpired
    | HoldExtended
    | HoldConverted
    | OrderRefunded
    | OrderCancelled
    | CompsIssued
    | SeatsBlocked
    | SeatsUnblocked
    | UnitsWithheld
    | WithheldUnitsReturned
    | SalePaused
    | SaleResumed
    | SaleSettingsChanged
    | IdempotencyKeyRecorded
    | IdempotencyKeysForgotten
)
