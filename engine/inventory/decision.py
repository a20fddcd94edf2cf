"""What a decision returns, and the checks of a request that several decisions share.

A check returns a `Rejected` (an expected "no") or None; it reads the inventory and changes nothing.
"""

from collections.abc import Iterable, Sequence

import msgspec

from engine import limits
from engine.changes import Change
from engine.commands import ItemRequest
from engine.holds import HoldItem
from engine.ids import FanId, HoldId, SeatId, TicketTypeId
from engine.inventory.codes import CodeDefinition, discounted
from engine.inventory.configuration import TicketKind
from engine.inventory.state import Inventory
from engine.outcomes import Outcome
from engine.price_phases import PriceRun, unit_price_runs
from engine.rejections import Reason, Rejected
from engine.sale_windows import is_within_window


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
        early
        and not (inventory.paused or inventory.cancelled)
        and now_ms < inventory.configuration.closes_at_ms
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


def check_ticket_types_on_sale(
    inventory: Inventory, ticket_type_ids: Iterable[TicketTypeId], now_ms: int
) -> Rejected | None:
    """SALE_NOT_OPEN when any of the types is outside its own sale window at `now_ms`."""
    closed = sorted(
        {
            ticket_type_id
            for ticket_type_id in ticket_type_ids
            if not is_ticket_type_on_sale(inventory, ticket_type_id, now_ms)
        }
    )
    if closed:
        return reject(
            Reason.SALE_NOT_OPEN, "the sale of this ticket type is not open", ticket_type_ids=closed
        )
    return None


def is_ticket_type_on_sale(inventory: Inventory, ticket_type_id: TicketTypeId, now_ms: int) -> bool:
    ticket_type = inventory.ticket_types[ticket_type_id]
    return is_within_window(ticket_type.on_sale_from_ms, ticket_type.on_sale_until_ms, now_ms)


def unit_price_runs_of(
    inventory: Inventory, ticket_type_id: TicketTypeId, quantity: int, now_ms: int
) -> tuple[PriceRun, ...]:
    """What the next `quantity` units of the type cost in a hold decided at `now_ms`, unit by unit
    in runs: the one place a hold's unit prices are set, which the hold then keeps."""
    ticket_type = inventory.ticket_types[ticket_type_id]
    if not ticket_type.price_phases:
        return (PriceRun(price_cents=ticket_type.price_cents, quantity=quantity),)
    counts = inventory.counts[ticket_type_id]
    return unit_price_runs(ticket_type.price_phases, counts.sold + counts.held, quantity, now_ms)


def current_unit_price_cents(
    inventory: Inventory, ticket_type_id: TicketTypeId, now_ms: int
) -> int:
    """The price the type shows now: its next unit's."""
    return unit_price_runs_of(inventory, ticket_type_id, 1, now_ms)[0].price_cents


def priced_items(
    inventory: Inventory,
    ticket_type_id: TicketTypeId,
    quantity: int,
    now_ms: int,
    code: CodeDefinition | None = None,
) -> tuple[HoldItem, ...]:
    """The items of `quantity` units of one type, each unit at its phase's price less the code's
    discount: one item per price, in the order first priced (a hold straddling a phase boundary
    carries the type twice, at each phase's price; two phases the discount brings to one price
    make one item)."""
    quantities: dict[int, int] = {}
    for run in unit_price_runs_of(inventory, ticket_type_id, quantity, now_ms):
        price_cents = discounted(run.price_cents, code, ticket_type_id)
        quantities[price_cents] = quantities.get(price_cents, 0) + run.quantity
    return tuple(
        HoldItem(ticket_type_id=ticket_type_id, quantity=units, unit_price_cents=price_cents)
        for price_cents, units in quantities.items()
    )


def seat_quantities(inventory: Inventory, seat_indexes: Iterable[int]) -> dict[TicketTypeId, int]:
    quantities: dict[TicketTypeId, int] = {}
    for seat_index in seat_indexes:
        ticket_type_id = inventory.seat_map.ticket_type_of(seat_index)
        quantities[ticket_type_id] = quantities.get(ticket_type_id, 0) + 1
    return quantities


def seat_items(
    inventory: Inventory,
    seat_indexes: Iterable[int],
    now_ms: int,
    code: CodeDefinition | None = None,
) -> tuple[HoldItem, ...]:
    return tuple(
        item
        for ticket_type_id, quantity in seat_quantities(inventory, seat_indexes).items()
        for item in priced_items(inventory, ticket_type_id, quantity, now_ms, code)
    )
