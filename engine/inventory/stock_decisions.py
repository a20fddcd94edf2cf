"""Decisions on a venue's stock controls that reshape a ticket type: more capacity for general
admission, and a new price for the holds to come.

A seated type's capacity is its seats, so it never grows here. A new price ends the type's
price phases: after it, every unit sells at that one price (holds and orders keep theirs).
"""

from engine import limits
from engine.changes import CapacityAdded, TicketTypeSaleChanged
from engine.commands import AddCapacity, ChangePrice
from engine.inventory.configuration import TicketKind, TicketTypeDefinition
from engine.inventory.decision import Decision, reject
from engine.inventory.state import Inventory
from engine.outcomes import Acknowledged
from engine.rejections import Reason, Rejected


def _ticket_type(inventory: Inventory, ticket_type_id: str) -> TicketTypeDefinition | Rejected:
    ticket_type = inventory.ticket_types.get(ticket_type_id)
    if ticket_type is None:
        return reject(
            Reason.VALIDATION_ERROR,
            "no such ticket type in this event",
            field="ticket_type_id",
            ticket_type_id=ticket_type_id,
        )
    return ticket_type


def decide_add_capacity(inventory: Inventory, command: AddCapacity) -> Decision | Rejected:
    ticket_type = _ticket_type(inventory, command.ticket_type_id)
    if isinstance(ticket_type, Rejected):
        return ticket_type
    if ticket_type.kind is not TicketKind.GENERAL:
        return reject(
            Reason.VALIDATION_ERROR,
            "a seated ticket type's capacity is its seats in the seat map",
            field="ticket_type_id",
            ticket_type_id=command.ticket_type_id,
        )
    capacity = inventory.counts[command.ticket_type_id].capacity
    if not 1 <= command.quantity <= limits.CAPACITY_PER_TICKET_TYPE_MAX - capacity:
        return reject(
            Reason.VALIDATION_ERROR,
            f"quantity must be at least 1 and keep capacity at most "
            f"{limits.CAPACITY_PER_TICKET_TYPE_MAX}",
            field="quantity",
        )
    change = CapacityAdded(ticket_type_id=command.ticket_type_id, quantity=command.quantity)
    return Decision(outcome=Acknowledged(), changes=(change,))


def decide_change_price(inventory: Inventory, command: ChangePrice) -> Decision | Rejected:
    ticket_type = _ticket_type(inventory, command.ticket_type_id)
    if isinstance(ticket_type, Rejected):
        return ticket_type
    if not 0 <= command.price_cents <= limits.PRICE_CENTS_MAX:
        return reject(
            Reason.VALIDATION_ERROR,
            f"price_cents must be between 0 and {limits.PRICE_CENTS_MAX}",
            field="price_cents",
        )
    if command.price_cents == ticket_type.price_cents and not ticket_type.price_phases:
        return Decision(outcome=Acknowledged(), changes=())
    change = TicketTypeSaleChanged(
        ticket_type_id=ticket_type.ticket_type_id,
        price_cents=command.price_cents,
        on_sale_from_ms=ticket_type.on_sale_from_ms,
        on_sale_until_ms=ticket_type.on_sale_until_ms,
        price_phases=(),
    )
    return Decision(outcome=Acknowledged(), changes=(change,))
