"""The venue's live figures of an event as msgspec Structs: what its stats endpoint and stream
encode (gateway/stats_board.py fills them).

As in gateway/schemas.py, the OpenAPI document is generated from these Structs: change their
shapes only by adding.
"""

from gateway.schemas import EventStatus, Response
from persistence.wait_list_entries import WaitListFigures


class TicketTypeStatsView(Response):
    """`blocked` is what the venue keeps off sale (blocked seats, withheld units), so
    `sold + held + blocked + available == capacity`; `withheld` repeats it for older readers."""

    ticket_type_id: str
    key: str
    capacity: int
    sold: int
    held: int
    available: int
    withheld: int
    blocked: int = 0


class QueueStatsView(Response):
    """`sold_out` counts the places still queued at a sold-out event (told so, and neither
    `waiting` nor `pre_queue` any more); `presale_waiting` is the part of `waiting` in the
    presale line."""

    waiting: int
    admitted: int
    admit_per_second: int
    pre_queue: int
    max_active_shoppers: int
    access_ttl_s: int
    sold_out: int
    presale_waiting: int


class OrderStatsView(Response):
    pending_payment: int
    paid: int
    fulfilled: int
    payment_failed: int
    refunded: int
    expired: int
    cancelled: int


class MintStatsView(Response):
    pending: int
    minted: int
    failed: int


class RefundStatsView(Response):
    """The event's refunds: `pending` includes a cancelled event's paid orders whose refund is not
    opened yet, so a cancellation's progress is `refunded` out of the three together."""

    pending: int
    refunded: int
    failed: int


class WaitListStatsView(Response):
    """The event's wait-list entries by status; `left` counts the fans who left it."""

    waiting: int
    offered: int
    converted: int
    expired: int
    left: int


def wait_list_view(figures: WaitListFigures) -> WaitListStatsView:
    return WaitListStatsView(
        waiting=figures.waiting,
        offered=figures.offered,
        converted=figures.converted,
        expired=figures.expired,
        left=figures.left,
    )


class StatsView(Response):
    """A venue's blocked seats, kills and set-asides are `blocked` (and `withheld`, its older
    name), so `sold + held + blocked + available == capacity` holds per ticket type and in total.
    `comps` counts the tickets given away, which `sold` includes and `revenue_cents` does not."""

    event_id: str
    status: EventStatus
    as_of: str
    capacity: int
    sold: int
    held: int
    available: int
    withheld: int
    revenue_cents: int
    by_ticket_type: list[TicketTypeStatsView]
    queue: QueueStatsView
    orders: OrderStatsView
    mints: MintStatsView
    comps: int = 0
    blocked: int = 0
    wait_list: WaitListStatsView = WaitListStatsView(
        waiting=0, offered=0, converted=0, expired=0, left=0
    )
    refunds: RefundStatsView = RefundStatsView(pending=0, refunded=0, failed=0)
