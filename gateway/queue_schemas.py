"""The bodies of the waiting room's queue as msgspec Structs: the code a fan may join with, and
a fan's place as each poll shows it.

As in gateway/schemas.py, requests forbid unknown fields and the OpenAPI document is generated
from these Structs: change their shapes only by adding.
"""

from engine.stock import Stock
from engine.waiting_room.state import PlaceState
from gateway.schemas import CodeText, Request, Response


class QueueJoinBody(Request):
    """The optional body of a queue join: a code of the event. An invite-only queue needs one;
    elsewhere only a presale code counts (it puts the fan in the presale line before
    `opens_at`), and any other code is ignored."""

    code: CodeText | None = None


class QueueView(Response):
    """`inventory` is what the event has left: `held` while nothing is available but holds may
    come back; a queued place shows `state` `sold_out` once nothing is held either, and
    `wait_list` says whether the event's wait list is open to join instead."""

    queue_id: str
    state: PlaceState
    position: int | None
    eta_s: int | None
    access_token: str | None
    inventory: Stock
    wait_list: bool
