"""The expected "no"s of the domain, one per error code of API.md that the engine can decide.

A rejection is a value returned by `decide`, never an exception. Add a member here only together
with its HTTP status and message in the gateway's error table.
"""

import enum

import msgspec


class Reason(enum.StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
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
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    BUSY = "BUSY"
    UNAVAILABLE = "UNAVAILABLE"


class Rejected(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A command the engine refused; `details` follows API.md (e.g. `{"seats": [...]}`)."""

    reason: Reason
    message: str = ""
    details: dict[str, object] = msgspec.field(default_factory=dict)
