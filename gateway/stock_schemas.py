"""The bodies of a venue's stock controls (API.md v1.1, venue operations) as msgspec Structs:
block or unblock seats, withhold or release general units, add general capacity, set a price;
and the ticket type's figures they answer with.

As in gateway/schemas.py, requests forbid unknown fields and the OpenAPI document is generated
from these Structs: change their shapes only by adding.
"""

from typing import Annotated, Literal

from msgspec import Meta

from engine import limits
from gateway.schemas import Identifier, Request, Response, SeatLabel

StockQuantity = Annotated[int, Meta(ge=1, le=limits.CAPACITY_PER_TICKET_TYPE_MAX)]
ControlledSeats = Annotated[
    list[SeatLabel], Meta(min_length=1, max_length=limits.SEATS_PER_VENUE_COMMAND_MAX)
]
# Why stock is kept off sale: a kill, or an allocation comps are given from (services/comps.py).
StockReason = Literal["kill", "comps", "press", "artists"]


class BlockBody(Request):
    """Seats of one ticket type taken off sale; `reason` is a kill (the default) or the
    allocation that comps of that reason draw on."""

    seats: ControlledSeats
    reason: StockReason = "kill"


class UnblockBody(Request):
    seats: ControlledSeats


class WithholdBody(Request):
    ticket_type_id: Identifier
    quantity: StockQuantity
    reason: StockReason = "kill"


class ReleaseBody(Request):
    """Withheld units back on sale: from `reason` when given, else kills first, then the
    allocations (comps, press, artists)."""

    ticket_type_id: Identifier
    quantity: StockQuantity
    reason: StockReason | None = None


class AddCapacityBody(Request):
    ticket_type_id: Identifier
    quantity: StockQuantity


class PriceBody(Request):
    ticket_type_id: Identifier
    price_cents: Annotated[int, Meta(ge=0, le=limits.PRICE_CENTS_MAX)]


class StockControlBody(Request):
    """Exactly one control."""

    block: BlockBody | None = None
    unblock: UnblockBody | None = None
    withhold: WithholdBody | None = None
    release: ReleaseBody | None = None
    add_capacity: AddCapacityBody | None = None
    price: PriceBody | None = None


class StockFiguresView(Response):
    """The ticket type's figures after the control, as in stats' `by_ticket_type`:
    `sold + held + blocked + available == capacity`; `price_cents` is the price of its next
    holds."""

    ticket_type_id: str
    key: str
    capacity: int
    sold: int
    held: int
    blocked: int
    available: int
    withheld: int
    price_cents: int
