"""A venue's stock control as the engine command the event's InventoryActor decides, and the one
ticket type it concerns (whose figures the answer shows).

Pure: it reads the event's details only. Seats name their type through their section, so a block
or an unblock is of one ticket type at a time; the engine checks every seat and count again.
"""

from engine.commands import (
    AddCapacity,
    BlockSeats,
    ChangePrice,
    Command,
    ReturnWithheldUnits,
    UnblockSeats,
    Withholding,
    WithholdUnits,
)
from engine.seat_map import SEAT_LABEL_SEPARATOR
from gateway.exchange import invalid
from gateway.stock_schemas import StockControlBody
from persistence.event_details import EventDetails

CONTROLS = ("block", "unblock", "withhold", "release", "add_capacity", "price")


def stock_command(
    details: EventDetails, body: StockControlBody, key: str | None
) -> tuple[Command, str]:
    """The command of the body's one control, keyed with `key`, and its ticket type's id."""
    given = [name for name in CONTROLS if getattr(body, name) is not None]
    if len(given) != 1:
        raise invalid(f"give exactly one of {', '.join(CONTROLS)}", field=CONTROLS[0])
    if body.block is not None:
        seats = tuple(body.block.seats)
        withholding = Withholding(body.block.reason)
        block = BlockSeats(seats=seats, withholding=withholding, idempotency_key=key)
        return block, _ticket_type_of_seats(details, seats, "block.seats")
    if body.unblock is not None:
        seats = tuple(body.unblock.seats)
        unblock = UnblockSeats(seats=seats, idempotency_key=key)
        return unblock, _ticket_type_of_seats(details, seats, "unblock.seats")
    if body.withhold is not None:
        withhold = body.withhold
        ticket_type_id = _ticket_type_id(details, withhold.ticket_type_id, "withhold")
        return WithholdUnits(
            ticket_type_id=ticket_type_id,
            quantity=withhold.quantity,
            withholding=Withholding(withhold.reason),
            idempotency_key=key,
        ), ticket_type_id
    if body.release is not None:
        release = body.release
        ticket_type_id = _ticket_type_id(details, release.ticket_type_id, "release")
        return ReturnWithheldUnits(
            ticket_type_id=ticket_type_id,
            quantity=release.quantity,
            withholding=None if release.reason is None else Withholding(release.reason),
            idempotency_key=key,
        ), ticket_type_id
    if body.add_capacity is not None:
        added = body.add_capacity
        ticket_type_id = _ticket_type_id(details, added.ticket_type_id, "add_capacity")
        return AddCapacity(
            ticket_type_id=ticket_type_id, quantity=added.quantity, idempotency_key=key
        ), ticket_type_id
    assert body.price is not None
    ticket_type_id = _ticket_type_id(details, body.price.ticket_type_id, "price")
    return ChangePrice(
        ticket_type_id=ticket_type_id, price_cents=body.price.price_cents, idempotency_key=key
    ), ticket_type_id


def _ticket_type_id(details: EventDetails, given: str, control: str) -> str:
    for ticket_type in details.ticket_types:
        if ticket_type.ticket_type_id == given.lower():
            return ticket_type.ticket_type_id
    raise invalid(
        "no such ticket type in this event",
        field=f"{control}.ticket_type_id",
        ticket_type_id=given,
    )


def _ticket_type_of_seats(details: EventDetails, seats: tuple[str, ...], field: str) -> str:
    """The one ticket type the seats' sections belong to."""
    types_of_sections = {section.section_id: section.ticket_type_id for section in details.sections}
    unknown = []
    ticket_type_ids = set()
    for seat in seats:
        parts = seat.rsplit(SEAT_LABEL_SEPARATOR, 2)
        ticket_type_id = types_of_sections.get(parts[0]) if len(parts) == 3 else None
        if ticket_type_id is None:
            unknown.append(seat)
        else:
            ticket_type_ids.add(ticket_type_id)
    if unknown:
        raise invalid("no such seats in this event", field=field, seats=unknown)
    if len(ticket_type_ids) != 1:
        raise invalid("seats of one ticket type at a time", field=field)
    return ticket_type_ids.pop()
