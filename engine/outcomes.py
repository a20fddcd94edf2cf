"""What an accepted command answers, and the idempotency record that replays that answer.

Outcomes are values the shell turns into API.md's response bodies; a replay under the same
idempotency key returns the stored outcome unchanged. Add an outcome here and to `Outcome`.
"""

from typing import TypeAlias

import msgspec

from engine.holds import Hold, HoldItem, Sale
from engine.ids import (
    CodeId,
    FanId,
    HoldId,
    IdempotencyKey,
    OrderId,
    SeatId,
    TicketTypeId,
    WaitListEntryId,
)
from engine.inventory.codes import CodeDefinition
from engine.inventory.wait_list import WaitListEntry, WaitListStatus
from engine.pricing import Price, price_order


class HoldView(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    hold_id: HoldId
    fan_id: FanId
    items: tuple[HoldItem, ...]
    seats: tuple[SeatId, ...]
    expires_at_ms: int
    subtotal_cents: int
    code_id: CodeId | None = None

    @classmethod
    def of(cls, hold: Hold) -> "HoldView":
        return cls(
            hold_id=hold.hold_id,
            fan_id=hold.fan_id,
            items=hold.items,
            seats=hold.seats,
            expires_at_ms=hold.expires_at_ms,
            subtotal_cents=hold.subtotal_cents,
            code_id=hold.code_id,
        )


class SaleView(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    order_id: OrderId
    fan_id: FanId
    items: tuple[HoldItem, ...]
    seats: tuple[SeatId, ...]
    complimentary: bool
    price: Price

    @classmethod
    def of(cls, sale: Sale) -> "SaleView":
        return cls(
            order_id=sale.order_id,
            fan_id=sale.fan_id,
            items=sale.items,
            seats=sale.seats,
            complimentary=sale.complimentary,
            price=price_order(sale.subtotal_cents),
        )


class ExpiryReport(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    expired_hold_ids: tuple[HoldId, ...]
    forgotten_idempotency_keys: tuple[IdempotencyKey, ...]


class WaitListEntryView(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """A fan's wait-list entry as a join answers it; `position` only while it is waiting."""

    entry_id: WaitListEntryId
    fan_id: FanId
    status: WaitListStatus
    position: int | None
    quantity: int
    ticket_type_id: TicketTypeId | None
    hold_id: HoldId | None
    offer_expires_at_ms: int | None

    @classmethod
    def of(cls, entry: WaitListEntry, position: int | None) -> "WaitListEntryView":
        return cls(
            entry_id=entry.entry_id,
            fan_id=entry.fan_id,
            status=entry.status,
            position=position,
            quantity=entry.quantity,
            ticket_type_id=entry.ticket_type_id,
            hold_id=entry.hold_id,
            offer_expires_at_ms=entry.offer_expires_at_ms,
        )


class CodesView(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Codes as a decision leaves them, with their uses (kept by sales) and held (live holds)."""

    codes: tuple[CodeDefinition, ...]
    uses: tuple[int, ...]
    held: tuple[int, ...]


class Acknowledged(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Done, with nothing to report beyond the changes."""


Outcome: TypeAlias = (
    HoldView | SaleView | ExpiryReport | WaitListEntryView | CodesView | Acknowledged
)


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    key: IdempotencyKey
    fingerprint: bytes
    outcome: Outcome
    recorded_at_ms: int
