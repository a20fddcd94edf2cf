"""What a decision returns, and the checks of a request that several decisions share.

A check returns a `Rejected` (an expected "no") or None; it reads the inventory and changes nothing.
"""

from collections.abc import Callable, Iterable, Sequence

import msgspec

from engine import limits
from engine.changes import Change
from engine.commands import ItemRequest
from engine.holds import HoldItem
from engine.ids import FanId, HoldId, SeatId, TicketTypeId
from engine.inventory.configuration import TicketKind
from engine.inventory.state import Inventory
from engine.outcomes import Outcome
from engine.rejections import Reason, Rejected


class Decision(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    outcome: Outcome
    changes: tuple[Change, ...]


def reject(reason: Reason, message: str, **details: object) -> Rejected:
    return Rejected(reason=reason, message=message, details=details)


def check_new_hold(
    inventory: Inventory,
    hold_id: HoldId,
    fan_id: FanId,
    quantity: int,
    now_ms: int,
    *,
    early: bool = False,
) -> Rejected | None:
    """`early`: a presale code lets this hold in before the sale opens (never when paused or
    closed)."""
    if hold_id in inventory.holds:
        return reject(Reason.VALIDATION_ERROR, "this hold id is already in use")
    if not inventory.is_on_sale(now_ms) and not (
        early and not inventory.paused and now_ms < inventory.configuration.closes_at_ms
    ):
        return reject(Reason.SALE_NOT_OPEN, "the sale is not open")
    limit = inventory.configuration.max_tickets_per_user
    if limit is not None and inventory.tickets_of_fan(fan_id) + quantity > limit:
        return reject(
            Reason.LIMIT_EXCEEDED,
            f"at most {limit} tickets per fan for this event",
            limit=limit,
            already=inventory.tickets_of_fan(fan_id),
        )
    return None


def check_general_items(
    inventory: Inventory, items: Sequence[ItemRequest], tickets_max: int
) -> Rejected | None:
    if not 1 <= len(items) <= limits.ITEMS_PER_HOLD_MAX:
        return reject(Reason.VALIDATION_ERROR, f"1 to {limits.ITEMS_PER_HOLD_MAX} items")
    if len({item.ticket_type_id for item in items}) != len(items):
        return reject(Reason.VALIDATION_ERROR, "each ticket type appears once")
    for item in items:
        ticket_type = inventory.ticket_types.get(item.ticket_type_id)
        if ticket_type is None or ticket_type.kind is not TicketKind.GENERAL:
            return reject(
                Reason.VALIDATION_ERROR,
                "not a general admission ticket type of this event",
                ticket_type_id=item.ticket_type_id,
            )
        if item.quantity < 1:
            return reject(Reason.VALIDATION_ERROR, "quantities start at 1")
    if sum(item.quantity for item in items) > tickets_max:
        return reject(Reason.VALIDATION_ERROR, f"at most {tickets_max} tickets at once")
    return None


def resolve_seats(
    inventory: Inventory, seat_ids: Sequence[SeatId], seats_max: int
) -> list[int] | Rejected:
    if not 1 <= len(seat_ids) <= seats_max:
        return reject(Reason.VALIDATION_ERROR, f"1 to {seats_max} seats")
    if len(set(seat_ids)) != len(seat_ids):
        return reject(Reason.VALIDATION_ERROR, "each seat appears once")
    seat_indexes = [inventory.seat_map.seat_index(seat_id) for seat_id in seat_ids]
    unknown = [
        seat_id
        for seat_id, seat_index in zip(seat_ids, seat_indexes, strict=True)
        if seat_index is None
    ]
    if unknown:
        return reject(Reason.VALIDATION_ERROR, "no such seats in this event", seats=unknown)
    return sorted(seat_index for seat_index in seat_indexes if seat_index is not None)


def unit_price_cents(inventory: Inventory, ticket_type_id: TicketTypeId, now_ms: int) -> int:
    """What one unit of the type costs in a hold decided at `now_ms`: the one place a hold's unit
    price is set, which the hold then keeps."""
    return inventory.ticket_types[ticket_type_id].price_cents


def seat_items(
    inventory: Inventory, seat_indexes: Iterable[int], unit_price: Callable[[TicketTypeId], int]
) -> tuple[HoldItem, ...]:
    quantities: dict[TicketTypeId, int] = {}
    for seat_index in seat_indexes:
        ticket_type_id = inventory.seat_map.ticket_type_of(seat_index)
        quantities[ticket_type_id] = quantities.get(ticket_type_id, 0) + 1
    return tuple(
        HoldItem(
            ticket_type_id=ticket_type_id,
            quantity=quantity,
            unit_price_cents=unit_price(ticket_type_id),
        )
        for ticket_type_id, quantity in quantities.items()
    )
