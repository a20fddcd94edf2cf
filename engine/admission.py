"""What a gate decides about one scanned code: admit the ticket, or reject it with a reason.

The code is read and verified first (an unreadable, forged or stale code says nothing about any
ticket); a scan uploaded after the fact must also have been made inside the event's door window,
before its upload, and after the ticket was issued; then the ticket's status decides, through
`STATUS_REFUSALS`: only a status the state machine lets check in admits. Add a status to the
state machine and this table fails at import until it says why that status is refused at the
gate. An event's entry policy (zones, re-entry) is decided on top of these tables in
engine.entry.
"""

import enum

import msgspec

from engine.limits import DOOR_WINDOW_AFTER_END_MS, QR_CLOCK_SKEW_STEPS, QR_STEP_MS
from engine.ticket_qr import QrVerdict, Unreadable
from engine.tickets import TRANSITIONS, TicketAction, TicketMoved, TicketStatus, move_ticket

# How far ahead of the server's clock a gate's clock may be when it says when it scanned.
SCANNED_AT_AHEAD_MAX_MS = QR_STEP_MS * QR_CLOCK_SKEW_STEPS


class ScanReason(enum.StrEnum):
    """Why a gate turned a code away; each is shown to the gate as it is."""

    MALFORMED = "malformed"
    OUTDATED_CODE = "outdated_code"
    FORGED = "forged"
    EXPIRED_CODE = "expired_code"
    CODE_STEP_MISMATCH = "code_step_mismatch"
    WRONG_EVENT = "wrong_event"
    UNKNOWN_TICKET = "unknown_ticket"
    OUTSIDE_DOOR_WINDOW = "outside_door_window"
    SCANNED_AFTER_UPLOAD = "scanned_after_upload"
    BEFORE_TICKET_ISSUED = "before_ticket_issued"
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


UNREADABLE_REFUSALS: dict[Unreadable, ScanReason] = {
    Unreadable.MALFORMED: ScanReason.MALFORMED,
    Unreadable.OUTDATED: ScanReason.OUTDATED_CODE,
}

# A live scan's code is judged against the server's clock; an uploaded one against the moment the
# gate says it scanned, so a stale step there means the code was not the one shown at that moment.
VERDICT_REFUSALS: dict[QrVerdict, ScanReason | None] = {
    QrVerdict.GENUINE: None,
    QrVerdict.FORGED: ScanReason.FORGED,
    QrVerdict.EXPIRED: ScanReason.EXPIRED_CODE,
}
UPLOADED_VERDICT_REFUSALS: dict[QrVerdict, ScanReason | None] = VERDICT_REFUSALS | {
    QrVerdict.EXPIRED: ScanReason.CODE_STEP_MISMATCH
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

assert set(UNREADABLE_REFUSALS) == set(Unreadable), "every unreadable payload has its reason"
assert set(VERDICT_REFUSALS) == set(QrVerdict), "every verdict says whether it admits"
assert set(UPLOADED_VERDICT_REFUSALS) == set(QrVerdict), "every verdict says whether it admits"
assert set(STATUS_REFUSALS) == set(TicketStatus), "every status says whether it admits"
assert {status for status, refusal in STATUS_REFUSALS.items() if refusal is None} == {
    status for status, moves in TRANSITIONS.items() if TicketAction.CHECK_IN in moves
}, "a status admits exactly when the state machine lets it check in"


class DoorWindow(msgspec.Struct, frozen=True, kw_only=True):
    """When scans of an event count: from its sale's opening to a while after it ends."""

    opens_at_ms: int
    closes_at_ms: int


def door_window(*, sale_opens_at_ms: int, event_ends_at_ms: int) -> DoorWindow:
    return DoorWindow(
        opens_at_ms=sale_opens_at_ms, closes_at_ms=event_ends_at_ms + DOOR_WINDOW_AFTER_END_MS
    )


def uploaded_scan_refusal(
    *, scanned_at_ms: int, uploaded_at_ms: int, window: DoorWindow
) -> ScanReason | None:
    """Why a scan a gate made offline cannot count, from its moment alone; None when it can."""
    if scanned_at_ms > uploaded_at_ms + SCANNED_AT_AHEAD_MAX_MS:
        return ScanReason.SCANNED_AFTER_UPLOAD
    if not window.opens_at_ms <= scanned_at_ms <= window.closes_at_ms:
        return ScanReason.OUTSIDE_DOOR_WINDOW
    return None


def verdict_refusal(verdict: QrVerdict, *, uploaded: bool) -> ScanReason | None:
    return (UPLOADED_VERDICT_REFUSALS if uploaded else VERDICT_REFUSALS)[verdict]


def decide_scan(
    *, status: TicketStatus, scanned_at_ms: int, issued_at_ms: int
) -> TicketMoved | ScanReason:
    """The check-in a genuine code of an admissible ticket makes, or why the gate refuses. A
    ticket is never checked in at a moment before it was issued."""
    if scanned_at_ms < issued_at_ms:
        return ScanReason.BEFORE_TICKET_ISSUED
    refusal = STATUS_REFUSALS[status]
    if refusal is not None:
        return refusal
    moved = move_ticket(status, TicketAction.CHECK_IN)
    assert isinstance(moved, TicketMoved), "STATUS_REFUSALS admits only what can check in"
    return moved
