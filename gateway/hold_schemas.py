"""The bodies of a hold as msgspec Structs: what a fan asks to hold (units of a ticket type,
named seats, or the best available) and how a hold is shown.

As in gateway/schemas.py, requests forbid unknown fields and the OpenAPI document is generated
from these Structs: change their shapes only by adding.
"""

from typing import Annotated, Literal

from msgspec import Meta

from engine import limits
from gateway.schemas import CodeText, Identifier, Label, Request, Response, SeatLabel

UnitQuantity = Annotated[int, Meta(ge=1, le=limits.UNITS_PER_GENERAL_HOLD_MAX)]
SeatQuantity = Annotated[int, Meta(ge=1, le=limits.SEATS_PER_HOLD_MAX)]


class ItemBody(Request):
    ticket_type_id: Identifier
    quantity: UnitQuantity


class BestAvailableBody(Request):
    """`accessible: true` asks for accessible and companion seats first; without it they are
    never given until the event releases them to general sale."""

    ticket_type_id: Identifier
    quantity: SeatQuantity
    contiguous: bool = True
    section: Label | None = None
    accessible: bool = False


class HoldBody(Request):
    """Exactly one of `items`, `seats` or `best_available`."""

    items: (
        Annotated[list[ItemBody], Meta(min_length=1, max_length=limits.ITEMS_PER_HOLD_MAX)] | None
    ) = None
    seats: (
        Annotated[list[SeatLabel], Meta(min_length=1, max_length=limits.SEATS_PER_HOLD_MAX)] | None
    ) = None
    best_available: BestAvailableBody | None = None
    code: CodeText | None = None


class HoldItemView(Response):
    ticket_type_id: str
    quantity: int
    unit_price_cents: int


HoldStatus = Literal["active", "released", "expired", "converted"]


class HoldView(Response):
    hold_id: str
    event_id: str
    status: HoldStatus
    expires_at: str
    items: list[HoldItemView]
    seats: list[str]
    subtotal_cents: int
    code: str | None = None
