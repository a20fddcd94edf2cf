"""What a gate decides about one scanned code: admit the ticket, or reject it with a reason.

The code is verified first (a forged or stale code says nothing about any ticket), then the
ticket's status decides, through `STATUS_REFUSALS`: only a status the state machine lets check in
admits. Add a status to the state machine and this table fails at import until it says why that
status is refused at the gate. An event's entry policy (zones, re-entry) is decided on top of these
tables in engine.entry.
"""

import enum

from engine.ticket_qr import QrVerdict
from engine.tickets import TRANSITIONS, TicketAction, TicketMoved, TicketStatus, move_ticket


class ScanReason(enum.StrEnum):
    """Why a gate turned a code away; each is shown to the gate as it is."""

    MALFORMED = "malformed"
    FORGED = "forged"
    EXPIRED_CODE = "expired_code"
    WRONG_EVENT = "wrong_event"
    UNKNOWN_TICKET = "unknown_ticket"
    ALREADY_CHECKED_IN = "already_checked_in"
    TRANSFERRED = "transferred"
    REFUNDED = "refunded"
    REVOKED = "revoked"
    LOCKED = "locked"
    TICKET_EXPIRED = "ticket_expired"
    CANCELLED = "cancelled"
    UNKNOWN_ZONE = "unknown_zone"
    WRONG_ZONE = "wrong_zone"
    ALREADY_INSIDE = "already_inside"
    NOT_INSIDE = "not_inside"
    REENTRY_DISABLED = "reentry_disabled"
    REENTRY_LIMIT = "reentry_limit"
    REENTRY_COOLDOWN = "reentry_cooldown"


VERDICT_REFUSALS: dict[QrVerdict, ScanReason | None] = {
    QrVerdict.GENUINE: None,
    QrVerdict.FORGED: ScanReason.FORGED,
    QrVerdict.EXPIRED: ScanReason.EXPIRED_CODE,
}

STATUS_REFUSALS: dict[TicketStatus, ScanReason | None] = {
    TicketStatus.VALID: None,
    TicketStatus.CHECKED_IN: ScanReason.ALREADY_CHECKED_IN,
    TicketStatus.TRANSFERRED: ScanReason.TRANSFERRED,
    TicketStatus.REFUNDED: ScanReason.REFUNDED,
    TicketStatus.REVOKED: ScanReason.REVOKED,
    TicketStatus.LOCKED: ScanReason.LOCKED,
    TicketStatus.EXPIRED: ScanReason.TICKET_EXPIRED,
    TicketStatus.CANCELLED: ScanReason.CANCELLED,
}

assert set(VERDICT_REFUSALS) == set(QrVerdict), "every verdict says whether it admits"
assert set(STATUS_REFUSALS) == set(TicketStatus), "every status says whether it admits"
assert {status for status, refusal in STATUS_REFUSALS.items() if refusal is None} == {
    status for status, moves in TRANSITIONS.items() if TicketAction.CHECK_IN in moves
}, "a status admits exactly when the state machine lets it check in"


def decide_scan(*, verdict: QrVerdict, status: TicketStatus) -> TicketMoved | ScanReason:
    """The check-in a genuine code of an admissible ticket makes, or why the gate refuses."""
    refusal = VERDICT_REFUSALS[verdict] or STATUS_REFUSALS[status]
    if refusal is not None:
        return refusal
    moved = move_ticket(status, TicketAction.CHECK_IN)
    assert isinstance(moved, TicketMoved), "STATUS_REFUSALS admits only what can check in"
    return moved
