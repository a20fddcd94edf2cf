"""Decisions on the venue's commands: refunds and cancellations, comps, blocked seats, withheld
units, and the sale's settings.

Each reads the inventory and returns a `Decision` or a `Rejected`; none changes anything.
"""

from typing import TypeVar

import msgspec

from engine import limits
from engine.changes import (
    Change,
    CompsIssued,
    OrderCancelled,
    OrderRefunded,
    SaleSettingsChanged,
    SeatsBlocked,
    SeatsUnblocked,
    TicketsReturned,
    UnitsWithheld,
    WithheldUnitsReturned,
)
from engine.commands import (
    BlockSeats,
    CancelOrder,
    ChangeSaleSettings,
    IssueComps,
    RefundOrder,
    ReturnTickets,
    ReturnWithheldUnits,
    UnblockSeats,
    Withholding,
    WithholdUnits,
)
from engine.holds import HoldItem, Sale
from engine.inventory.configuration import (
    TicketKind,
    sale_settings_problems,
    wait_list_problems,
)
from engine.inventory.decision import (
    Decision,
    check_general_items,
    reject,
    resolve_seats,
    seat_quantities,
)
from engine.inventory.state import Inventory
from engine.inventory.unit_counts import SEAT_STATE_WITHHOLDINGS, WITHHOLDING_SEAT_STATES
from engine.outcomes import Acknowledged, SaleView
from engine.rejections import Reason, Rejected
from engine.sale_windows import sale_window_problems
from engine.seat_map import SeatState

Setting = TypeVar("Setting")


def decide_return_order(
    inventory: Inventory, command: RefundOrder | CancelOrder
) -> Decision | Rejected:
    sale = inventory.sales.get(command.order_id)
    if sale is None:
        return reject(Reason.NOT_FOUND, "no such sold order")
    change: Change = (
        OrderRefunded(order_id=sale.order_id)
        if isinstance(command, RefundOrder)
        else OrderCancelled(order_id=sale.order_id)
    )
    return Decision(outcome=SaleView.of(sale), changes=(change,))


def decide_return_tickets(inventory: Inventory, command: ReturnTickets) -> Decision | Rejected:
    """Part of a sale back on sale; all that is left of it is the whole order's return. Seats or
    units the sale no longer has are NOT_FOUND, so a return asked twice happens once."""
    sale = inventory.sales.get(command.order_id)
    if sale is None:
        return reject(Reason.NOT_FOUND, "no such sold order")
    if len(set(command.seats)) != len(command.seats) or not (command.seats or command.items):
        return reject(Reason.VALIDATION_ERROR, "name each seat once, or some units")
    if not frozenset(command.seats) <= frozenset(sale.seats):
        return reject(Reason.NOT_FOUND, "some seats are not sold in this order")
    seat_indexes = [inventory.seat_map.seat_index(seat) for seat in command.seats]
    returned = seat_quantities(inventory, (index for index in seat_indexes if index is not None))
    for item in command.items:
        returned[item.ticket_type_id] = returned.get(item.ticket_type_id, 0) + item.quantity
    sold = {item.ticket_type_id: item for item in sale.items}
    if any(
        quantity <= 0 or ticket_type_id not in sold or quantity > sold[ticket_type_id].quantity
        for ticket_type_id, quantity in returned.items()
    ):
        return reject(Reason.NOT_FOUND, "the order has fewer of those tickets sold")
    if sum(returned.values()) == sale.quantity:
        return Decision(outcome=SaleView.of(sale), changes=(OrderRefunded(order_id=sale.order_id),))
    items = tuple(
        msgspec.structs.replace(sold[ticket_type_id], quantity=quantity)
        for ticket_type_id, quantity in returned.items()
    )
    change = TicketsReturned(order_id=sale.order_id, seats=command.seats, items=items)
    return Decision(outcome=SaleView.of(sale), changes=(change,))


def decide_issue_comps(inventory: Inventory, command: IssueComps) -> Decision | Rejected:
    if command.allocation is Withholding.KILL:
        return reject(Reason.VALIDATION_ERROR, "comps come from an allocation, not from kills")
    if bool(command.seats) == bool(command.items):
        return reject(Reason.VALIDATION_ERROR, "give either seats or items")
    if command.new_order_id in inventory.sales:
        return reject(Reason.VALIDATION_ERROR, "this order id is already in use")
    if command.seats:
        seat_indexes = resolve_seats(inventory, command.seats, limits.TICKETS_PER_COMP_ORDER_MAX)
        if isinstance(seat_indexes, Rejected):
            return seat_indexes
        allocated = WITHHOLDING_SEAT_STATES[command.allocation]
        states = inventory.seat_states.states
        outside = [index for index in seat_indexes if states[index] != allocated]
        if outside:
            return reject(
                Reason.SEAT_UNAVAILABLE,
                f"some seats are not set aside for {command.allocation}",
                seats=list(inventory.seat_map.labels(outside)),
            )
        items = tuple(
            HoldItem(ticket_type_id=ticket_type_id, quantity=quantity, unit_price_cents=0)
            for ticket_type_id, quantity in seat_quantities(inventory, seat_indexes).items()
        )
        seats = inventory.seat_map.labels(seat_indexes)
    else:
        rejected = check_general_items(inventory, command.items, limits.TICKETS_PER_COMP_ORDER_MAX)
        if rejected is not None:
            return rejected
        short = [
            item.ticket_type_id
            for item in command.items
            if inventory.counts[item.ticket_type_id].withheld[command.allocation] < item.quantity
        ]
        if short:
            return reject(Reason.SOLD_OUT, "not enough set aside", ticket_type_ids=short)
        items = tuple(
            HoldItem(ticket_type_id=item.ticket_type_id, quantity=item.quantity, unit_price_cents=0)
            for item in command.items
        )
        seats = ()
    sale = Sale(
        order_id=command.new_order_id,
        fan_id=command.fan_id,
        items=items,
        seats=seats,
        complimentary=True,
    )
    change = CompsIssued(sale=sale, allocation=command.allocation)
    return Decision(outcome=SaleView.of(sale), changes=(change,))


def decide_block_seats(inventory: Inventory, command: BlockSeats) -> Decision | Rejected:
    seat_indexes = resolve_seats(inventory, command.seats, limits.SEATS_PER_VENUE_COMMAND_MAX)
    if isinstance(seat_indexes, Rejected):
        return seat_indexes
    states = inventory.seat_states.states
    taken = [index for index in seat_indexes if states[index] != SeatState.AVAILABLE]
    if taken:
        return reject(
            Reason.SEAT_UNAVAILABLE,
            "only available seats can be blocked",
            seats=list(inventory.seat_map.labels(taken)),
        )
    change = SeatsBlocked(
        seats=inventory.seat_map.labels(seat_indexes), withholding=command.withholding
    )
    return Decision(outcome=Acknowledged(), changes=(change,))


def decide_unblock_seats(inventory: Inventory, command: UnblockSeats) -> Decision | Rejected:
    seat_indexes = resolve_seats(inventory, command.seats, limits.SEATS_PER_VENUE_COMMAND_MAX)
    if isinstance(seat_indexes, Rejected):
        return seat_indexes
    states = inventory.seat_states.states
    not_blocked = [index for index in seat_indexes if states[index] not in SEAT_STATE_WITHHOLDINGS]
    if not_blocked:
        return reject(
            Reason.SEAT_UNAVAILABLE,
            "only blocked or set-aside seats can be unblocked",
            seats=list(inventory.seat_map.labels(not_blocked)),
        )
    change = SeatsUnblocked(seats=inventory.seat_map.labels(seat_indexes))
    return Decision(outcome=Acknowledged(), changes=(change,))


def _check_units_request(
    inventory: Inventory, command: WithholdUnits | ReturnWithheldUnits
) -> Rejected | None:
    ticket_type = inventory.ticket_types.get(command.ticket_type_id)
    if ticket_type is None or ticket_type.kind is not TicketKind.GENERAL:
        return reject(
            Reason.VALIDATION_ERROR,
            "not a general admission ticket type of this event",
            ticket_type_id=command.ticket_type_id,
        )
    if not 1 <= command.quantity <= limits.CAPACITY_PER_TICKET_TYPE_MAX:
        return reject(Reason.VALIDATION_ERROR, "quantities start at 1")
    return None


def decide_withhold_units(inventory: Inventory, command: WithholdUnits) -> Decision | Rejected:
    rejected = _check_units_request(inventory, command)
    if rejected is not None:
        return rejected
    if inventory.counts[command.ticket_type_id].available < command.quantity:
        return reject(Reason.SOLD_OUT, "not enough available to withhold")
    change = UnitsWithheld(
        ticket_type_id=command.ticket_type_id,
        quantity=command.quantity,
        withholding=command.withholding,
    )
    return Decision(outcome=Acknowledged(), changes=(change,))


def decide_return_withheld_units(
    inventory: Inventory, command: ReturnWithheldUnits
) -> Decision | Rejected:
    rejected = _check_units_request(inventory, command)
    if rejected is not None:
        return rejected
    if inventory.counts[command.ticket_type_id].withheld[command.withholding] < command.quantity:
        return reject(
            Reason.VALIDATION_ERROR, f"fewer than that are withheld as {command.withholding}"
        )
    change = WithheldUnitsReturned(
        ticket_type_id=command.ticket_type_id,
        quantity=command.quantity,
        withholding=command.withholding,
    )
    return Decision(outcome=Acknowledged(), changes=(change,))


def decide_change_sale_settings(
    inventory: Inventory, command: ChangeSaleSettings
) -> Decision | Rejected:
    """The merged settings, checked whole; no change when they are what they were."""
    configuration = inventory.configuration
    current = SaleSettingsChanged(
        opens_at_ms=configuration.opens_at_ms,
        closes_at_ms=configuration.closes_at_ms,
        hold_ttl_ms=configuration.hold_ttl_ms,
        max_tickets_per_user=configuration.max_tickets_per_user,
        wait_list_enabled=configuration.wait_list_enabled,
        offer_ttl_ms=configuration.offer_ttl_ms,
    )
    change = SaleSettingsChanged(
        opens_at_ms=_given_or(command.opens_at_ms, current.opens_at_ms),
        closes_at_ms=_given_or(command.closes_at_ms, current.closes_at_ms),
        hold_ttl_ms=_given_or(command.hold_ttl_ms, current.hold_ttl_ms),
        max_tickets_per_user=_given_or(command.max_tickets_per_user, current.max_tickets_per_user),
        wait_list_enabled=_given_or(command.wait_list_enabled, current.wait_list_enabled),
        offer_ttl_ms=_given_or(command.offer_ttl_ms, current.offer_ttl_ms),
    )
    problems = sale_settings_problems(
        change.opens_at_ms, change.closes_at_ms, change.hold_ttl_ms, change.max_tickets_per_user
    ) | wait_list_problems(change.offer_ttl_ms)
    for ticket_type in configuration.ticket_types:
        window_problems = sale_window_problems(
            ticket_type.on_sale_from_ms,
            ticket_type.on_sale_until_ms,
            change.opens_at_ms,
            change.closes_at_ms,
        )
        if window_problems and "closes_at" not in problems:
            problems["opens_at" if command.closes_at_ms is msgspec.UNSET else "closes_at"] = (
                f"the sale window must hold ticket type {ticket_type.ticket_type_id}'s own window"
            )
    if problems:
        field, message = next(iter(problems.items()))
        if field == "closes_at" and isinstance(command.closes_at_ms, msgspec.UnsetType):
            field = "opens_at"
        return reject(Reason.VALIDATION_ERROR, message, field=field)
    return Decision(outcome=Acknowledged(), changes=() if change == current else (change,))


def _given_or(value: Setting | msgspec.UnsetType, current: Setting) -> Setting:
    return current if isinstance(value, msgspec.UnsetType) else value
