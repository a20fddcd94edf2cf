"""Holds (inventory kept for one fan until an expiry time) and the sales they become.

A `Hold` and a `Sale` are frozen values: the inventory replaces them, never edits them, and the same
values are the rows persistence stores and `Inventory.rebuild` reads back. The expiry schedule keeps
live holds ordered by expiry so a sweep reads only the holds that are due.
"""

import bisect
from collections.abc import Iterator

import msgspec

from engine.ids import CodeId, FanId, HoldId, OrderId, SeatId, TicketTypeId


class HoldItem(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    ticket_type_id: TicketTypeId
    quantity: int
    unit_price_cents: int


class Hold(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    hold_id: HoldId
    fan_id: FanId
    items: tuple[HoldItem, ...]
    seats: tuple[SeatId, ...]
    expires_at_ms: int
    extensions: int = 0
    code_id: CodeId | None = None

    @property
    def quantity(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def subtotal_cents(self) -> int:
        return sum(item.quantity * item.unit_price_cents for item in self.items)


class Sale(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Sold inventory of one order; a complimentary sale is free and outside the fan's limit."""

    order_id: OrderId
    fan_id: FanId
    items: tuple[HoldItem, ...]
    seats: tuple[SeatId, ...]
    complimentary: bool = False
    code_id: CodeId | None = None

    @property
    def quantity(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def subtotal_cents(self) -> int:
        return sum(item.quantity * item.unit_price_cents for item in self.items)


def sale_after_return(sale: Sale, seats: tuple[SeatId, ...], items: tuple[HoldItem, ...]) -> Sale:
    """What stays sold of `sale` once `seats` and the quantities of `items` went back."""
    returned = {item.ticket_type_id: item.quantity for item in items}
    kept = tuple(
        msgspec.structs.replace(item, quantity=item.quantity - returned.get(item.ticket_type_id, 0))
        for item in sale.items
    )
    assert all(item.quantity >= 0 for item in kept), "only sold units go back"
    gone = frozenset(seats)
    assert gone <= frozenset(sale.seats), "only sold seats go back"
    return msgspec.structs.replace(
        sale,
        items=tuple(item for item in kept if item.quantity > 0),
        seats=tuple(seat for seat in sale.seats if seat not in gone),
    )


class ExpirySchedule:
    """Live holds sorted by (expires_at_ms, hold_id)."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, HoldId]] = []

    def add(self, hold: Hold) -> None:
        bisect.insort(self.entries, (hold.expires_at_ms, hold.hold_id))

    def remove(self, hold: Hold) -> None:
        entry = (hold.expires_at_ms, hold.hold_id)
        position = bisect.bisect_left(self.entries, entry)
        assert self.entries[position] == entry
        del self.entries[position]

    def due(self, now_ms: int) -> Iterator[HoldId]:
        for expires_at_ms, hold_id in self.entries:
            if expires_at_ms > now_ms:
                return
            yield hold_id

    def __len__(self) -> int:
        return len(self.entries)
