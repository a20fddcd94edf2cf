"""The gate's decision, walked over every verdict and every ticket status."""

import itertools

import pytest

from engine.admission import STATUS_REFUSALS, VERDICT_REFUSALS, ScanReason, decide_scan
from engine.ticket_qr import QrVerdict
from engine.tickets import TicketAction, TicketMoved, TicketStatus


@pytest.mark.parametrize(("verdict", "status"), list(itertools.product(QrVerdict, TicketStatus)))
def test_scan_admits_only_a_genuine_code_of_a_valid_ticket(
    verdict: QrVerdict, status: TicketStatus
) -> None:
    decision = decide_scan(verdict=verdict, status=status)

    if verdict is QrVerdict.GENUINE and status is TicketStatus.VALID:
        assert decision == TicketMoved(
            before=TicketStatus.VALID,
            action=TicketAction.CHECK_IN,
            after=TicketStatus.CHECKED_IN,
            reason=None,
        )
    elif verdict is not QrVerdict.GENUINE:
        assert decision is VERDICT_REFUSALS[verdict]
    else:
        assert decision is STATUS_REFUSALS[status]


def test_scan_is_rejected_as_a_replay_when_the_ticket_is_checked_in() -> None:
    assert (
        decide_scan(verdict=QrVerdict.GENUINE, status=TicketStatus.CHECKED_IN)
        is ScanReason.ALREADY_CHECKED_IN
    )


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (TicketStatus.REFUNDED, ScanReason.REFUNDED),
        (TicketStatus.LOCKED, ScanReason.LOCKED),
        (TicketStatus.TRANSFERRED, ScanReason.TRANSFERRED),
        (TicketStatus.REVOKED, ScanReason.REVOKED),
    ],
)
def test_scan_names_why_when_the_ticket_left_circulation(
    status: TicketStatus, reason: ScanReason
) -> None:
    assert decide_scan(verdict=QrVerdict.GENUINE, status=status) is reason
