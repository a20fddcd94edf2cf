"""The facts the inventory records, past tense, one tagged union: what persistence writes.

`engine.inventory.apply` is the only code that turns a change into state, and `decide` the only
code that creates one. A change is self-sufficient for its table rows: ids, quantities, seat ids
and money are in it. Messages are `gc=False` (no cycles; the cycle collector skips them). Add a
change here, to `Change`, and to the `match` in `apply`.
"""

from typing import TypeAlias

import msgspec

from engine import limits
from engine.commands import Withholding
from engine.holds import Hold, HoldItem, Sale
from engine.ids import (
    CodeId,
    HoldId,
    IdempotencyKey,
    OrderId,
    SeatId,
    TicketTypeId,
    WaitListEntryId,
)
from engine.inventory.codes import CodeDefinition
from engine.inventory.wait_list import WaitListEntry
from engine.outcomes import IdempotencyRecord
from engine.price_phases import PricePhase
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


class TicketsReturned(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Some of a sale went back on sale: these seats, and these quantities of each ticket type
    (a seat's counted in its type's); the rest of the sale stays sold."""

    order_id: OrderId
    seats: tuple[SeatId, ...]
    items: tuple[HoldItem, ...]


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


class CapacityAdded(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """A general-admission type's capacity grew by `quantity`, all of it available."""

    ticket_type_id: TicketTypeId
    quantity: int


class SalePaused(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    pass


class SaleResumed(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    pass


class SaleCancelled(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """The event is cancelled; its paid orders are refunded by the work this change starts."""

    reason: str


class SaleSettingsChanged(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """The sale's settings as they are from now on, every one of them."""

    opens_at_ms: int
    closes_at_ms: int
    hold_ttl_ms: int
    max_tickets_per_user: int | None
    wait_list_enabled: bool = False
    offer_ttl_ms: int = limits.OFFER_TTL_S_DEFAULT * limits.MILLISECONDS_PER_SECOND
    accessible_release_at_ms: int | None = None


class TicketTypeSaleChanged(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """A ticket type's window and price phases as they are from now on; `price_cents` is the
    price it shows when it has no phases (the first phase's when it has)."""

    ticket_type_id: TicketTypeId
    price_cents: int
    on_sale_from_ms: int | None
    on_sale_until_ms: int | None
    price_phases: tuple[PricePhase, ...]


class WaitListJoined(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    entry: WaitListEntry


class WaitListLeft(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    entry_id: WaitListEntryId


class WaitListOffered(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """The entry is offered the hold placed for it by the `HoldPlaced` just before this change."""

    entry_id: WaitListEntryId
    hold_id: HoldId
    offer_expires_at_ms: int


class WaitListOffersExpired(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Offers whose holds expired unbought: their stock passes on to the next entries."""

    entry_ids: tuple[WaitListEntryId, ...]


class WaitListOfferConverted(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    entry_id: WaitListEntryId


class CodesAdded(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    codes: tuple[CodeDefinition, ...]


class CodeActiveChanged(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    code_id: CodeId
    active: bool


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
    | TicketsReturned
    | OrderCancelled
    | CompsIssued
    | SeatsBlocked
    | SeatsUnblocked
    | UnitsWithheld
    | WithheldUnitsReturned
    | CapacityAdded
    | SalePaused
    | SaleResumed
    | SaleCancelled
    | SaleSettingsChanged
    | TicketTypeSaleChanged
    | IdempotencyKeyRecorded
    | IdempotencyKeysForgotten
    | WaitListJoined
    | WaitListLeft
    | WaitListOffered
    | WaitListOffersExpired
    | WaitListOfferConverted
    | CodesAdded
    | CodeActiveChanged
)
