"""The ticket state machine, walked exhaustively: every status against every action and reason."""

import itertools

import pytest

from engine.rejections import Reason, Rejected
from engine.tickets import (
    ACTION_REASONS,
    LOCK_REASONS,
    TERMINAL_STATUSES,
    TRANSITIONS,
    TicketAction,
    TicketMoved,
    TicketReason,
    TicketStatus,
    move_ticket,
)

REASON_CHOICES: list[TicketReason | None] = [None, *TicketReason]


@pytest.mark.parametrize(
    ("status", "action", "reason"),
    list(itertools.product(TicketStatus, TicketAction, REASON_CHOICES)),
)
def test_move_follows_the_table_when_given_any_status_action_and_reason(
    status: TicketStatus, action: TicketAction, reason: TicketReason | None
) -> None:
    result = move_ticket(status, action, reason)
    allowed_target = TRANSITIONS[status].get(action)
    reason_fits = (reason in ACTION_REASONS[action]) if ACTION_REASONS[action] else reason is None
    if allowed_target is not None and reason_fits:
        assert result == TicketMoved(
            before=status, action=action, after=allowed_target, reason=reason
        )
    else:
        assert isinstance(result, Rejected)
        assert result.reason is Reason.VALIDATION_ERROR


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_every_action_is_refused_when_the_status_is_terminal(status: TicketStatus) -> None:
    for action in TicketAction:
        reason = min(ACTION_REASONS[action], default=None)
        assert isinstance(move_ticket(status, action, reason), Rejected)


def test_locked_ticket_returns_to_valid_when_unlocked() -> None:
    locked = move_ticket(TicketStatus.VALID, TicketAction.LOCK, TicketReason.CHARGEBACK)
    assert isinstance(locked, TicketMoved)
    assert locked.after is TicketStatus.LOCKED
    unlocked = move_ticket(locked.after, TicketAction.UNLOCK)
    assert isinstance(unlocked, TicketMoved)
    assert unlocked.after is TicketStatus.VALID


def test_lock_is_accepted_when_the_reason_is_fraud_chargeback_dispute_or_legal_hold() -> None:
    assert {reason.value for reason in LOCK_REASONS} == {
        "fraud",
        "chargeback",
        "dispute",
        "legal_hold",
    }


def test_check_in_is_refused_when_the_ticket_is_already_checked_in() -> None:
    checked_in = move_ticket(TicketStatus.VALID, TicketAction.CHECK_IN)
    assert isinstance(checked_in, TicketMoved)
    assert isinstance(move_ticket(checked_in.after, TicketAction.CHECK_IN), Rejected)


def test_a_terminal_status_is_reachable_when_starting_from_any_status() -> None:
    for status in TicketStatus:
        reachable = {status}
        frontier = [status]
        while frontier:
            current = frontier.pop()
            for target in TRANSITIONS[current].values():
                if target not in reachable:
                    reachable.add(target)
                    frontier.append(target)
        assert reachable & TERMINAL_STATUSES, status
