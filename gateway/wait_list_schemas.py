"""The bodies of an event's wait list as msgspec Structs: joining it, and an entry as its fan
sees it, from waiting to the offer of a hold.

As in gateway/schemas.py, requests forbid unknown fields and the OpenAPI document is generated
from these Structs: change their shapes only by adding.
"""

from typing import Annotated, Literal

from msgspec import Meta

from engine import limits
from gateway.schemas import Identifier, Request, Response

WaitListQuantity = Annotated[int, Meta(ge=1, le=limits.WAIT_LIST_QUANTITY_MAX)]


class WaitListJoinBody(Request):
    """`ticket_type_id` left out: the first ticket type, in the event's order, with enough."""

    quantity: WaitListQuantity
    ticket_type_id: Identifier | None = None


WaitListEntryStatus = Literal["waiting", "offered", "converted", "expired", "left"]


class WaitListJoinView(Response):
    entry_id: str
    status: WaitListEntryStatus
    position: int | None


class WaitListEntryView(Response):
    """`position` counts the entries waiting ahead (0: next), null unless `waiting`; `hold_id` and
    `offer_expires_at` are the offer's, null until the entry is offered."""

    entry_id: str
    event_id: str
    status: WaitListEntryStatus
    position: int | None
    quantity: int
    ticket_type_id: str | None
    hold_id: str | None
    offer_expires_at: str | None
