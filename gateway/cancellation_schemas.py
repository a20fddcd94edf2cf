"""The bodies of cancelling and postponing an event, and of a fan's request for a refund after a
postponement (API.md v1.1, "Cancellations, partial refunds and disputes").

As in gateway/schemas.py, the OpenAPI document is generated from these Structs: change their
shapes only by adding.
"""

from gateway.order_schemas import RefundReason
from gateway.schemas import Moment, Request


class CancelEventBody(Request):
    reason: RefundReason


class PostponeEventBody(Request):
    """The event's new dates; `refund_until` is when its fans' window to ask for a refund ends."""

    starts_at: Moment
    ends_at: Moment
    refund_until: Moment


class RefundRequestBody(Request):
    reason: RefundReason | None = None
