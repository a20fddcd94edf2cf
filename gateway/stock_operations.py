"""The operation of a venue's stock controls (API.md v1.1, venue operations), as
gateway/operations.py declares the sale's."""

from gateway.errors import ErrorCode
from gateway.operations import VENUE, Operation
from gateway.stock_schemas import StockControlBody, StockFiguresView

STOCK_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="post",
        path="/v1/venue/events/{event_id}/inventory",
        summary=(
            "Control an event's stock through its inventory, with exactly one of `block` or "
            "`unblock` (seats of one ticket type), `withhold` or `release` (general units), "
            "`add_capacity` (general types only) or `price` (the price of holds from now on; "
            "it replaces the type's price phases); answers the type's figures"
        ),
        answer_status=200,
        answer=StockFiguresView,
        body=StockControlBody,
        errors=(
            *VENUE,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.SOLD_OUT,
            ErrorCode.SEAT_UNAVAILABLE,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
)
