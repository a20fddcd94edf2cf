"""The error contract of API.md: one exhaustive table of codes, statuses and user-facing text.

Every error response is built here, in the shape `{"error": {"code", "message", "details"}}`. A new
code is added to the table, never spelled out in a route.
"""

import contextlib
import enum
from collections.abc import Iterator
from typing import Any, assert_never

import msgspec
from fastapi.responses import Response

from engine import limits
from engine.rejections import Reason, Rejected
from engine.transfers import TransferRefusal
from services.refusals import (
    SERVICE_REFUSALS,
    ClaimNotPending,
    CompsMisstated,
    ConfirmationNotResendable,
    EngineRefused,
    NothingFound,
    OrderNotRefundable,
    RefundMisstated,
    RefundNotAllowed,
    ServiceRefusal,
    TicketMoveRefused,
    TicketNotReissuable,
    TransferRefused,
)


class ErrorCode(enum.StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    SALE_NOT_OPEN = "SALE_NOT_OPEN"
    NOT_ADMITTED = "NOT_ADMITTED"
    SOLD_OUT = "SOLD_OUT"
    SEAT_UNAVAILABLE = "SEAT_UNAVAILABLE"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    WAIT_LIST_CLOSED = "WAIT_LIST_CLOSED"
    CODE_INVALID = "CODE_INVALID"
    CODE_EXHAUSTED = "CODE_EXHAUSTED"
    CODE_EXISTS = "CODE_EXISTS"
    EVENT_CANCELLED = "EVENT_CANCELLED"
    REFUND_NOT_ALLOWED = "REFUND_NOT_ALLOWED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    ORDER_NOT_REFUNDABLE = "ORDER_NOT_REFUNDABLE"
    ORDER_NOT_CONFIRMED = "ORDER_NOT_CONFIRMED"
    ORDER_HAS_NO_EMAIL = "ORDER_HAS_NO_EMAIL"
    TICKET_STATUS_CONFLICT = "TICKET_STATUS_CONFLICT"
    TRANSFER_NOT_ALLOWED = "TRANSFER_NOT_ALLOWED"
    CLAIM_NOT_PENDING = "CLAIM_NOT_PENDING"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


ERROR_TABLE: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.VALIDATION_ERROR: (422, "The request is not valid."),
    ErrorCode.UNAUTHENTICATED: (401, "A valid bearer token is required."),
    ErrorCode.FORBIDDEN: (403, "Your role does not allow this."),
    ErrorCode.NOT_FOUND: (404, "Not found."),
    ErrorCode.METHOD_NOT_ALLOWED: (405, "This method is not allowed here."),
    ErrorCode.SALE_NOT_OPEN: (409, "The sale is not open."),
    ErrorCode.NOT_ADMITTED: (403, "You have not been admitted from the waiting room."),
    ErrorCode.SOLD_OUT: (409, "Not enough tickets are left for this request."),
    ErrorCode.SEAT_UNAVAILABLE: (409, "Some of these seats are no longer available."),
    ErrorCode.LIMIT_EXCEEDED: (409, "This would pass your ticket limit for the event."),
    ErrorCode.HOLD_EXPIRED: (410, "The hold expired or was released."),
    ErrorCode.WAIT_LIST_CLOSED: (409, "This event's wait list is not open to new entries."),
    ErrorCode.CODE_INVALID: (
        409,
        "The code is unknown, inactive, outside its dates, or unlocks nothing asked for.",
    ),
    ErrorCode.CODE_EXHAUSTED: (409, "This code has no uses left for you."),
    ErrorCode.CODE_EXISTS: (409, "This event has a code with this text already."),
    ErrorCode.EVENT_CANCELLED: (409, "This event was cancelled."),
    ErrorCode.REFUND_NOT_ALLOWED: (
        409,
        "This order cannot be refunded on request: its event was not postponed, or the window "
        "for refunds has closed.",
    ),
    ErrorCode.IDEMPOTENCY_CONFLICT: (
        409,
        "This Idempotency-Key was used with a different request, or is still in flight.",
    ),
    ErrorCode.PAYMENT_FAILED: (402, "The payment was declined."),
    ErrorCode.ORDER_NOT_REFUNDABLE: (409, "This order was never paid, so it cannot be refunded."),
    ErrorCode.ORDER_NOT_CONFIRMED: (409, "This order is not paid, so it has no confirmation."),
    ErrorCode.ORDER_HAS_NO_EMAIL: (409, "This order has no email address to send to."),
    ErrorCode.TICKET_STATUS_CONFLICT: (409, "The ticket's status does not allow this."),
    ErrorCode.TRANSFER_NOT_ALLOWED: (409, "This ticket cannot be transferred now."),
    ErrorCode.CLAIM_NOT_PENDING: (409, "This claim was already accepted, cancelled or expired."),
    ErrorCode.BAD_SIGNATURE: (400, "The webhook's signature does not verify."),
    ErrorCode.PAYLOAD_TOO_LARGE: (413, "The body is over this route's limit; none of it was kept."),
    ErrorCode.RATE_LIMITED: (429, "Too many requests; retry later."),
    ErrorCode.UNAVAILABLE: (503, "A service we depend on is unavailable; nothing was changed."),
    ErrorCode.INTERNAL_ERROR: (500, "Something went wrong on our side; nothing was changed."),
}
assert set(ERROR_TABLE) == set(ErrorCode), "every error code needs a status and a message"

RETRY_AFTER_S = {ErrorCode.RATE_LIMITED: 1, ErrorCode.UNAVAILABLE: 5}


class ApiError(Exception):
    """Raised anywhere under a route to answer with one error of the table; nothing else leaks."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        details: dict[str, object] | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message or ERROR_TABLE[code][1])
        self.code = code
        self.message = message
        self.details = details
        self.retry_after_s = retry_after_s

    def response(self) -> Response:
        return error_response(self.code, self.message, self.details, self.retry_after_s)


# The engine's expected "no"s as API codes. A full queue (BUSY) is a dependency that cannot take
# more right now: UNAVAILABLE, with a short Retry-After.
REASON_CODES: dict[Reason, ErrorCode] = {
    Reason.VALIDATION_ERROR: ErrorCode.VALIDATION_ERROR,
    Reason.NOT_FOUND: ErrorCode.NOT_FOUND,
    Reason.SALE_NOT_OPEN: ErrorCode.SALE_NOT_OPEN,
    Reason.NOT_ADMITTED: ErrorCode.NOT_ADMITTED,
    Reason.SOLD_OUT: ErrorCode.SOLD_OUT,
    Reason.SEAT_UNAVAILABLE: ErrorCode.SEAT_UNAVAILABLE,
    Reason.LIMIT_EXCEEDED: ErrorCode.LIMIT_EXCEEDED,
    Reason.HOLD_EXPIRED: ErrorCode.HOLD_EXPIRED,
    Reason.WAIT_LIST_CLOSED: ErrorCode.WAIT_LIST_CLOSED,
    Reason.CODE_INVALID: ErrorCode.CODE_INVALID,
    Reason.CODE_EXHAUSTED: ErrorCode.CODE_EXHAUSTED,
    Reason.CODE_EXISTS: ErrorCode.CODE_EXISTS,
    Reason.EVENT_CANCELLED: ErrorCode.EVENT_CANCELLED,
    Reason.IDEMPOTENCY_CONFLICT: ErrorCode.IDEMPOTENCY_CONFLICT,
    Reason.BUSY: ErrorCode.UNAVAILABLE,
    Reason.UNAVAILABLE: ErrorCode.UNAVAILABLE,
}
assert set(REASON_CODES) == set(Reason), "every engine rejection needs an API code"
BUSY_RETRY_AFTER_S = 1


def rejection_error(rejected: Rejected) -> ApiError:
    """The API error for an engine rejection, with the engine's message and details."""
    return ApiError(
        REASON_CODES[rejected.reason],
        message=rejected.message or None,
        details=rejected.details or None,
        retry_after_s=BUSY_RETRY_AFTER_S if rejected.reason is Reason.BUSY else None,
    )


TRANSFER_REFUSAL_MESSAGES: dict[TransferRefusal, str] = {
    TransferRefusal.SAME_FAN: "the ticket is already yours",
    TransferRefusal.CHECKED_IN: "the ticket was used to enter",
    TransferRefusal.LOCKED: "the ticket is locked by its venue",
    TransferRefusal.ENDED: "the ticket is no longer valid",
    TransferRefusal.CLAIM_PENDING: (
        "the ticket is offered by email and waits for its recipient; cancel the claim first"
    ),
    TransferRefusal.TRANSFERS_DISABLED: "this event does not allow transfers",
    TransferRefusal.OWN_WALLET: "the ticket's NFT is in your own wallet; send it from there",
    TransferRefusal.COOLDOWN: (
        "a ticket that changed hands stays "
        f"{limits.TRANSFER_COOLDOWN_MS // limits.MILLISECONDS_PER_SECOND} s before moving again"
    ),
    TransferRefusal.DAILY_LIMIT: (
        f"you may transfer {limits.TRANSFERS_PER_FAN_PER_DAY_MAX} tickets a day at most"
    ),
}
assert set(TRANSFER_REFUSAL_MESSAGES) == set(TransferRefusal), "every refusal says why in words"


def refusal_error(refusal: ServiceRefusal) -> ApiError:
    """The API error for a use case's expected "no" (services/refusals.py), in words."""
    match refusal:
        case NothingFound():
            return ApiError(ErrorCode.NOT_FOUND, message=str(refusal))
        case CompsMisstated():
            return ApiError(
                ErrorCode.VALIDATION_ERROR, message="give exactly one of items or seats"
            )
        case EngineRefused():
            return rejection_error(refusal.rejected)
        case TransferRefused():
            return ApiError(
                ErrorCode.TRANSFER_NOT_ALLOWED,
                message=TRANSFER_REFUSAL_MESSAGES[refusal.refusal],
                details={"reason": refusal.refusal.value, "status": refusal.ticket_status},
            )
        case OrderNotRefundable(complimentary=True):
            return ApiError(
                ErrorCode.ORDER_NOT_REFUNDABLE,
                message="a complimentary order was given, not paid for: there is nothing to refund",
                details={"status": refusal.order_status, "complimentary": True},
            )
        case OrderNotRefundable():
            return ApiError(
                ErrorCode.ORDER_NOT_REFUNDABLE,
                message=f"a {refusal.order_status} order was never paid, so there is nothing to "
                "refund",
                details={"status": refusal.order_status},
            )
        case RefundMisstated():
            return ApiError(
                ErrorCode.VALIDATION_ERROR,
                message=refusal.message,
                details={"ticket_ids": list(refusal.ticket_ids)} if refusal.ticket_ids else None,
            )
        case RefundNotAllowed():
            return ApiError(ErrorCode.REFUND_NOT_ALLOWED, message=refusal.message)
        case TicketMoveRefused():
            return ApiError(
                ErrorCode.TICKET_STATUS_CONFLICT,
                message=refusal.engine_message,
                details={"status": refusal.ticket_status},
            )
        case TicketNotReissuable():
            return ApiError(
                ErrorCode.TICKET_STATUS_CONFLICT,
                message=f"only a valid ticket is reissued; this one is {refusal.ticket_status}",
                details={"status": refusal.ticket_status},
            )
        case ConfirmationNotResendable(lacks_email=True):
            return ApiError(
                ErrorCode.ORDER_HAS_NO_EMAIL,
                message="the buyer's token carried no email, so there is nowhere to send it",
                details={"status": refusal.order_status},
            )
        case ConfirmationNotResendable():
            return ApiError(
                ErrorCode.ORDER_NOT_CONFIRMED,
                message=f"a {refusal.order_status} order has no confirmation to send again",
                details={"status": refusal.order_status},
            )
        case ClaimNotPending():
            return ApiError(
                ErrorCode.CLAIM_NOT_PENDING,
                message=f"this claim is {refusal.claim_status}; only a pending claim is accepted "
                "or cancelled",
                details={"status": refusal.claim_status},
            )
        case _:
            assert_never(refusal)


@contextlib.contextmanager
def refusals_answered() -> Iterator[None]:
    """Inside it, a use case's refusal leaves as its ApiError, which an idempotent request keeps
    as its answer like any other."""
    try:
        yield
    except SERVICE_REFUSALS as refusal:
        raise refusal_error(refusal) from None


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    code: ErrorCode
    message: str
    details: dict[str, Any]


class ErrorEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    error: ErrorBody


def error_response(
    code: ErrorCode,
    message: str | None = None,
    details: dict[str, object] | None = None,
    retry_after_s: int | None = None,
) -> Response:
    status, default_message = ERROR_TABLE[code]
    envelope = ErrorEnvelope(
        error=ErrorBody(code=code, message=message or default_message, details=details or {})
    )
    headers = {}
    retry_after = retry_after_s if retry_after_s is not None else RETRY_AFTER_S.get(code)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(
        content=msgspec.json.encode(envelope),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
