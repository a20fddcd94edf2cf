"""A ticket type's own sale window and price phases as the venue gives them: at creation (each
type checked whole, errors naming `ticket_types[i].<field>`) and by PATCH, by key, as the
ChangeTicketTypeSales the event's InventoryActor decides.

Pure: it reads no connection; gateway/routes/venue.py makes the change.
"""

import datetime

import msgspec

from engine.commands import ChangeTicketTypeSales, TicketTypeSalePatch
from engine.inventory.configuration import TicketTypeDefinition, ticket_type_sale_problems
from engine.rejections import Rejected
from gateway.errors import ApiError, rejection_error
from gateway.event_schemas import PricePhaseBody, TicketTypeBody, TicketTypePatchBody
from gateway.exchange import invalid
from gateway.onsale_changes import given
from persistence.event_details import EventDetails
from persistence.event_repository import (
    NewPricePhase,
    NewTicketType,
    milliseconds_of,
    optional_milliseconds_of,
    price_phases_of,
)

TICKET_TYPES = "ticket_types"


def ticket_type_field(position: int, field: str) -> str:
    return f"{TICKET_TYPES}[{position}].{field}"


def new_price_phases(bodies: list[PricePhaseBody]) -> tuple[NewPricePhase, ...]:
    return tuple(
        NewPricePhase(price_cents=body.price_cents, first=body.first, until=body.until)
        for body in bodies
    )


def new_ticket_type(
    body: TicketTypeBody, position: int, *, opens_at_ms: int, closes_at_ms: int
) -> NewTicketType:
    """The type to create: `price_cents` left out takes the first phase's price, and one given
    with phases must be it."""
    phases = new_price_phases(body.price_phases)
    price_cents = body.price_cents
    if price_cents is None:
        if not phases:
            raise invalid(
                "price_cents is required unless price_phases are given",
                field=ticket_type_field(position, "price_cents"),
            )
        price_cents = phases[0].price_cents
    new = NewTicketType(
        key=body.key,
        name=body.name,
        kind=body.kind,
        price_cents=price_cents,
        capacity=body.capacity or 0,
        hidden=body.hidden,
        on_sale_from=body.on_sale_from,
        on_sale_until=body.on_sale_until,
        price_phases=phases,
    )
    definition = TicketTypeDefinition(
        ticket_type_id=body.key,
        kind=body.kind,
        price_cents=price_cents,
        on_sale_from_ms=optional_milliseconds_of(body.on_sale_from),
        on_sale_until_ms=optional_milliseconds_of(body.on_sale_until),
        price_phases=price_phases_of(phases),
    )
    problems = ticket_type_sale_problems(definition, opens_at_ms, closes_at_ms)
    if problems:
        field, message = next(iter(problems.items()))
        raise invalid(message, field=ticket_type_field(position, field), key=body.key)
    return new


def ticket_type_sales_change(
    bodies: list[TicketTypePatchBody], details: EventDetails
) -> ChangeTicketTypeSales | None:
    """The change the PATCH's `ticket_types` ask for of the types' sales (None when they change
    only zones, which are not the sale's); an unknown or repeated key is refused."""
    ids = {ticket_type.key: ticket_type.ticket_type_id for ticket_type in details.ticket_types}
    seen: set[str] = set()
    patches = []
    for position, body in enumerate(bodies):
        ticket_type_id = ids.get(body.key)
        if ticket_type_id is None:
            raise invalid(
                "no ticket type of this event has this key",
                field=ticket_type_field(position, "key"),
                key=body.key,
            )
        if body.key in seen:
            raise invalid("each ticket type appears once", field=ticket_type_field(position, "key"))
        seen.add(body.key)
        if not any(
            given(value) for value in (body.on_sale_from, body.on_sale_until, body.price_phases)
        ):
            continue
        patches.append(
            TicketTypeSalePatch(
                ticket_type_id=ticket_type_id,
                on_sale_from_ms=_optional_moment_ms(body.on_sale_from),
                on_sale_until_ms=_optional_moment_ms(body.on_sale_until),
                price_phases=(
                    msgspec.UNSET
                    if isinstance(body.price_phases, msgspec.UnsetType)
                    else price_phases_of(new_price_phases(body.price_phases))
                ),
            )
        )
    return ChangeTicketTypeSales(patches=tuple(patches)) if patches else None


def ticket_type_sales_error(rejected: Rejected, change: ChangeTicketTypeSales) -> ApiError:
    """The API error of the actor's refusal, its field named as the body names it."""
    positions = {patch.ticket_type_id: position for position, patch in enumerate(change.patches)}
    position = positions.get(str(rejected.details.get("ticket_type_id")))
    field = rejected.details.get("field")
    if position is not None and isinstance(field, str):
        details = rejected.details | {"field": ticket_type_field(position, field)}
        rejected = msgspec.structs.replace(rejected, details=details)
    return rejection_error(rejected)


def _optional_moment_ms(
    moment: datetime.datetime | msgspec.UnsetType | None,
) -> int | msgspec.UnsetType | None:
    if moment is None or isinstance(moment, msgspec.UnsetType):
        return moment
    return milliseconds_of(moment)
