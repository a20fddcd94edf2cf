"""The operations of the service desk and of a fan's order listing (API.md v1.1), one row each,
as gateway/operations.py declares the sale's."""

from engine import desk_limits
from engine.order_lifecycle import OrderStatus
from gateway.desk_schemas import DeskOrderList, MyOrderList, OrderHistoryView, ResendView
from gateway.errors import ErrorCode
from gateway.operations import CURSOR, VENUE, Operation, QueryParameter

ORDERS_LIMIT = QueryParameter(
    name="limit",
    schema={
        "type": "integer",
        "minimum": 1,
        "maximum": desk_limits.ORDERS_LISTED_MAX,
        "default": desk_limits.ORDERS_LISTED_DEFAULT,
    },
    description="Orders per page.",
)
DESK_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="get",
        path="/v1/venue/orders",
        summary=(
            "Find any order of your tenant, newest first: `q` is an order id, an email (whole, "
            "in any case), a seat (`101-A-7`) or the start of the buyer's name (in any case)"
        ),
        answer_status=200,
        answer=DeskOrderList,
        errors=(ErrorCode.FORBIDDEN, ErrorCode.VALIDATION_ERROR),
        query=(
            QueryParameter(
                name="q",
                schema={
                    "type": "string",
                    "maxLength": desk_limits.ORDER_SEARCH_CHARACTERS_MAX,
                },
                description="What to find; every order when left out.",
            ),
            QueryParameter(
                name="event_id",
                schema={"type": "string", "format": "uuid"},
                description="Only this event's orders.",
            ),
            QueryParameter(
                name="status",
                schema={"type": "string", "enum": [status.value for status in OrderStatus]},
                description="Only orders in this status.",
            ),
            ORDERS_LIMIT,
            CURSOR,
        ),
    ),
    Operation(
        method="get",
        path="/v1/venue/orders/{order_id}/history",
        summary=(
            "What happened to an order, in time order: created, paid or failed, tickets issued, "
            "minted, given away, scanned, locked, unlocked, reissued, refunded, notices sent"
        ),
        answer_status=200,
        answer=OrderHistoryView,
        errors=VENUE,
    ),
    Operation(
        method="post",
        path="/v1/venue/orders/{order_id}/resend",
        summary="Email a paid order's confirmation to its buyer again",
        answer_status=202,
        answer=ResendView,
        errors=(
            *VENUE,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.ORDER_NOT_CONFIRMED,
            ErrorCode.ORDER_HAS_NO_EMAIL,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/me/orders",
        summary="Your orders across events, newest first, a page at a time",
        answer_status=200,
        answer=MyOrderList,
        errors=(ErrorCode.VALIDATION_ERROR,),
        query=(ORDERS_LIMIT, CURSOR),
    ),
)
