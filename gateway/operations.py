"""The operations of the on-sale API, one row each: the sale (venues' events, fans' events, the
waiting room, holds, checkout, orders and payments) and operations; the tickets after the sale
are in gateway/ticket_operations.py.

FastAPI cannot see msgspec Structs, so each operation is declared once, in a row: its body, its
answers and the errors it can give. A route added without a row is missing from the contract, and
a test compares the rows with the app's routes.
"""

from typing import Any

import msgspec

from engine import limits
from gateway.cancellation_schemas import CancelEventBody, PostponeEventBody, RefundRequestBody
from gateway.errors import ErrorCode
from gateway.event_schemas import CreateEventBody, PatchEventBody
from gateway.event_view_schemas import (
    CreatedEventView,
    EventView,
    SeatmapView,
    VenueEventList,
    VenueEventView,
)
from gateway.hold_schemas import HoldBody, HoldView
from gateway.order_schemas import CheckoutView, OrderView, PayBody, RefundBody, WebhookAnswer
from gateway.queue_schemas import QueueJoinBody, QueueView
from gateway.stats_schemas import StatsView
from gateway.wait_list_schemas import WaitListEntryView, WaitListJoinBody, WaitListJoinView


class QueryParameter(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    schema: dict[str, Any]
    description: str


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    path: str
    summary: str
    answer_status: int
    answer: type | None
    body: type | None = None
    body_required: bool = True
    errors: tuple[ErrorCode, ...] = ()
    idempotent: bool = False
    access_token: bool = False
    stream: bool = False
    authenticated: bool = True
    query: tuple[QueryParameter, ...] = ()
    also_answers: tuple[tuple[int, type], ...] = ()
    media_type: str = "application/json"


VENUE = (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND)
CURSOR = QueryParameter(
    name="cursor",
    schema={"type": "string", "maxLength": limits.TICKET_CURSOR_CHARACTERS_MAX},
    description="The `next_cursor` of the previous page; the first page without it.",
)
CODE = QueryParameter(
    name="code",
    schema={"type": "string", "minLength": 1, "maxLength": limits.CODE_CHARACTERS_MAX},
    description=(
        "A code of the event: the hidden types it unlocks are shown, prices after its discount, "
        "and whether it is valid now"
    ),
)
SALE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="post",
        path="/v1/venue/events",
        summary=(
            "Create an event with its ticket types, seat map, on-sale settings and, optionally, "
            "the URL its venue webhooks go to"
        ),
        answer_status=201,
        answer=CreatedEventView,
        body=CreateEventBody,
        errors=(ErrorCode.FORBIDDEN, ErrorCode.VALIDATION_ERROR, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/events",
        summary="List the tenant's events",
        answer_status=200,
        answer=VenueEventList,
        errors=(ErrorCode.FORBIDDEN,),
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}",
        summary="Read one of the tenant's events",
        answer_status=200,
        answer=VenueEventView,
        errors=VENUE,
    ),
    Operation(
        method="patch",
        path="/v1/venue/events/{event_id}",
        summary=(
            "Change the on-sale settings (each applies to what comes after it), pause or resume "
            "the sale, or allow or forbid transfers"
        ),
        answer_status=200,
        answer=VenueEventView,
        body=PatchEventBody,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR, ErrorCode.EVENT_CANCELLED),
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/stats",
        summary="The sale's live figures",
        answer_status=200,
        answer=StatsView,
        errors=VENUE,
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/stats/stream",
        summary="The sale's live figures as server-sent events, one each second",
        answer_status=200,
        answer=StatsView,
        errors=VENUE,
        stream=True,
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}",
        summary="An event with its ticket types and what is available",
        answer_status=200,
        answer=EventView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.VALIDATION_ERROR),
        query=(CODE,),
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}/seatmap",
        summary="Every seat of the event, available or not",
        answer_status=200,
        answer=SeatmapView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.VALIDATION_ERROR),
        query=(CODE,),
    ),
    Operation(
        method="post",
        path="/v1/events/{event_id}/queue",
        summary=(
            "Join the waiting room (joining again returns the same place), with a code when the "
            "queue is invite-only, or a presale code to join the presale line before opens_at"
        ),
        answer_status=200,
        answer=QueueView,
        body=QueueJoinBody,
        body_required=False,
        errors=(
            ErrorCode.NOT_FOUND,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.NOT_ADMITTED,
            ErrorCode.CODE_INVALID,
            ErrorCode.EVENT_CANCELLED,
        ),
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}/queue/{queue_id}",
        summary="Your place in the waiting room, and your access token once admitted",
        answer_status=200,
        answer=QueueView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="post",
        path="/v1/events/{event_id}/holds",
        summary="Hold general admission, named seats or the best available seats",
        answer_status=201,
        answer=HoldView,
        body=HoldBody,
        errors=(
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.NOT_FOUND,
            ErrorCode.SALE_NOT_OPEN,
            ErrorCode.NOT_ADMITTED,
            ErrorCode.SOLD_OUT,
            ErrorCode.SEAT_UNAVAILABLE,
            ErrorCode.LIMIT_EXCEEDED,
            ErrorCode.CODE_INVALID,
            ErrorCode.CODE_EXHAUSTED,
            ErrorCode.EVENT_CANCELLED,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
        access_token=True,
    ),
    Operation(
        method="get",
        path="/v1/holds/{hold_id}",
        summary="Your hold, in whatever state it is",
        answer_status=200,
        answer=HoldView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="delete",
        path="/v1/holds/{hold_id}",
        summary="Release your hold; its inventory is available again at once",
        answer_status=204,
        answer=None,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.HOLD_EXPIRED),
    ),
    Operation(
        method="post",
        path="/v1/holds/{hold_id}/checkout",
        summary="Create the hold's order and its PaymentIntent; the hold lasts the payment window",
        answer_status=201,
        answer=CheckoutView,
        errors=(
            ErrorCode.NOT_FOUND,
            ErrorCode.HOLD_EXPIRED,
            ErrorCode.EVENT_CANCELLED,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/events/{event_id}/wait-list",
        summary=(
            "Join the event's wait list (201), or get the entry you have (200): stock that comes "
            "back is offered to entries in join order, as a hold of theirs, and emailed"
        ),
        answer_status=201,
        answer=WaitListJoinView,
        body=WaitListJoinBody,
        errors=(
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.NOT_FOUND,
            ErrorCode.WAIT_LIST_CLOSED,
            ErrorCode.LIMIT_EXCEEDED,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/wait-list/{entry_id}",
        summary="Your wait-list entry: its place while waiting, its offer once offered",
        answer_status=200,
        answer=WaitListEntryView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="delete",
        path="/v1/wait-list/{entry_id}",
        summary="Leave the wait list; an offer you hold is released and passes to the next entry",
        answer_status=204,
        answer=None,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="get",
        path="/v1/orders/{order_id}",
        summary="An order with its tickets and their NFTs (its fan, or its venue)",
        answer_status=200,
        answer=OrderView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="post",
        path="/v1/orders/{order_id}/refund-request",
        summary=(
            "The fan's own refund of a paid order, in full, while its postponed event's refund "
            "window is open"
        ),
        answer_status=200,
        answer=OrderView,
        body=RefundRequestBody,
        body_required=False,
        errors=(
            ErrorCode.NOT_FOUND,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.REFUND_NOT_ALLOWED,
            ErrorCode.ORDER_NOT_REFUNDABLE,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/venue/events/{event_id}/cancel",
        summary=(
            "Cancel the event: the sale stops at once and every paid order is refunded in full, "
            "in the background"
        ),
        answer_status=202,
        answer=VenueEventView,
        body=CancelEventBody,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/venue/events/{event_id}/postpone",
        summary=(
            "Move the event to new dates; its tickets stay valid and its fans may ask for a "
            "refund until `refund_until`"
        ),
        answer_status=200,
        answer=VenueEventView,
        body=PostponeEventBody,
        errors=(
            *VENUE,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.EVENT_CANCELLED,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/orders/{order_id}/refund",
        summary="Refund a paid order, or some of its tickets, through Stripe; their tickets end "
        "and their seats go back on sale (202 with the order while the refund is still running)",
        answer_status=200,
        answer=OrderView,
        body=RefundBody,
        errors=(
            *VENUE,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.ORDER_NOT_REFUNDABLE,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/dev/orders/{order_id}/pay",
        summary="Development only: confirm the order's PaymentIntent with a Stripe test card",
        answer_status=200,
        answer=OrderView,
        body=PayBody,
        errors=(
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.NOT_FOUND,
            ErrorCode.PAYMENT_FAILED,
            ErrorCode.HOLD_EXPIRED,
        ),
    ),
    Operation(
        method="post",
        path="/v1/webhooks/stripe",
        summary="Stripe's events, verified by Stripe-Signature and applied once each",
        answer_status=200,
        answer=WebhookAnswer,
        errors=(ErrorCode.BAD_SIGNATURE, ErrorCode.UNAVAILABLE),
        authenticated=False,
    ),
    Operation(
        method="get",
        path="/health",
        summary="200 while the process runs",
        answer_status=200,
        answer=None,
        authenticated=False,
    ),
    Operation(
        method="get",
        path="/health/ready",
        summary="200 when Postgres, Redis and Ray answer, else 503 naming what failed",
        answer_status=200,
        answer=None,
        errors=(ErrorCode.UNAVAILABLE,),
        authenticated=False,
    ),
    Operation(
        method="get",
        path="/metrics",
        summary=(
            "Prometheus metrics that name no tenant and no event; every metric is served on the "
            "private metrics port, named as `metrics_url` in runtime.json"
        ),
        answer_status=200,
        answer=None,
        authenticated=False,
    ),
)
