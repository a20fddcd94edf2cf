"""The gate's decision, walked over every verdict, every unreadable payload and every ticket
status, and the moments an uploaded scan must fall within."""

import pytest

from engine import limits
from engine.admission import (
    SCANNED_AT_AHEAD_MAX_MS,
    STATUS_REFUSALS,
    UNREADABLE_REFUSALS,
    ScanReason,
    decide_scan,
    door_window,
    uploaded_scan_refusal,
    verdict_refusal,
)
from engine.ticket_qr import QrVerdict, Unreadable
from engine.tickets import TicketAction, TicketMoved, TicketStatus

ISSUED_AT_MS = 1_800_000_000_000
OPENS_AT_MS = ISSUED_AT_MS - 3_600_000
ENDS_AT_MS = ISSUED_AT_MS + 86_400_000
WINDOW = door_window(sale_opens_at_ms=OPENS_AT_MS, event_ends_at_ms=ENDS_AT_MS)


@pytest.mark.parametrize("status", list(TicketStatus))
def test_scan_admits_only_a_valid_ticket(status: TicketStatus) -> None:
    decision = decide_scan(status=status, scanned_at_ms=ISSUED_AT_MS, issued_at_ms=ISSUED_AT_MS)

    if status is TicketStatus.VALID:
        assert decision == TicketMoved(
            before=TicketStatus.VALID,
            action=TicketAction.CHECK_IN,
            after=TicketStatus.CHECKED_IN,
            reason=None,
        )
    else:
        assert decision is STATUS_REFUSALS[status]


@pytest.mark.parametrize("status", list(TicketStatus))
def test_scan_is_rejected_when_made_before_the_ticket_was_issued(status: TicketStatus) -> None:
    decision = decide_scan(status=status, scanned_at_ms=ISSUED_AT_MS - 1, issued_at_ms=ISSUED_AT_MS)

    assert decision is ScanReason.BEFORE_TICKET_ISSUED


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (TicketStatus.CHECKED_IN, ScanReason.ALREADY_CHECKED_IN),
        (TicketStatus.REFUNDED, ScanReason.REFUNDED),
        (TicketStatus.LOCKED, ScanReason.LOCKED),
        (TicketStatus.TRANSFERRED, ScanReason.TRANSFERRED),
        (TicketStatus.REVOKED, ScanReason.REVOKED),
    ],
)
def test_scan_names_why_when_the_ticket_left_circulation(
    status: TicketStatus, reason: ScanReason
) -> None:
    decision = decide_scan(status=status, scanned_at_ms=ISSUED_AT_MS, issued_at_ms=ISSUED_AT_MS)

    assert decision is reason


@pytest.mark.parametrize("verdict", list(QrVerdict))
@pytest.mark.parametrize("uploaded", [False, True])
def test_only_a_genuine_code_passes_and_a_stale_one_is_named_by_how_it_came(
    verdict: QrVerdict, uploaded: bool
) -> None:
    expected = {
        QrVerdict.GENUINE: None,
        QrVerdict.FORGED: ScanReason.FORGED,
        QrVerdict.EXPIRED: ScanReason.CODE_STEP_MISMATCH if uploaded else ScanReason.EXPIRED_CODE,
    }

    assert verdict_refusal(verdict, uploaded=uploaded) is expected[verdict]


def test_an_outdated_code_is_told_apart_from_a_malformed_one() -> None:
    assert UNREADABLE_REFUSALS == {
        Unreadable.MALFORMED: ScanReason.MALFORMED,
        Unreadable.OUTDATED: ScanReason.OUTDATED_CODE,
    }


@pytest.mark.parametrize(
    "scanned_at_ms",
    [OPENS_AT_MS, ISSUED_AT_MS, ENDS_AT_MS, ENDS_AT_MS + limits.DOOR_WINDOW_AFTER_END_MS],
)
def test_uploaded_scan_counts_when_made_inside_the_door_window(scanned_at_ms: int) -> None:
    refusal = uploaded_scan_refusal(
        scanned_at_ms=scanned_at_ms,
        uploaded_at_ms=ENDS_AT_MS + limits.DOOR_WINDOW_AFTER_END_MS,
        window=WINDOW,
    )

    assert refusal is None


@pytest.mark.parametrize(
    "scanned_at_ms",
    [
        OPENS_AT_MS - 1,
        OPENS_AT_MS - 7 * 86_400_000,
        ENDS_AT_MS + limits.DOOR_WINDOW_AFTER_END_MS + 1,
    ],
)
def test_uploaded_scan_is_rejected_when_made_outside_the_door_window(scanned_at_ms: int) -> None:
    refusal = uploaded_scan_refusal(
        scanned_at_ms=scanned_at_ms, uploaded_at_ms=ENDS_AT_MS + 2 * 86_400_000, window=WINDOW
    )

    assert refusal is ScanReason.OUTSIDE_DOOR_WINDOW


def test_uploaded_scan_is_rejected_when_made_after_its_upload_beyond_the_skew() -> None:
    uploaded_at_ms = ISSUED_AT_MS + 60_000

    within_skew = uploaded_scan_refusal(
        scanned_at_ms=uploaded_at_ms + SCANNED_AT_AHEAD_MAX_MS,
        uploaded_at_ms=uploaded_at_ms,
        window=WINDOW,
    )
    beyond = uploaded_scan_refusal(
        scanned_at_ms=uploaded_at_ms + SCANNED_AT_AHEAD_MAX_MS + 1,
        uploaded_at_ms=uploaded_at_ms,
        window=WINDOW,
    )

    assert within_skew is None
    assert beyond is ScanReason.SCANNED_AFTER_UPLOAD
