"""The transfer rules: each one alone refuses, in the order fans are told about them."""

import pytest

from engine import limits
from engine.tickets import TRANSITIONS, TicketAction, TicketStatus
from engine.transfers import STATUS_REFUSALS, TransferCase, TransferRefusal, check_transfer

NOW_MS = 1_700_000_000_000
COOLDOWN_MS = limits.TRANSFER_COOLDOWN_MS
ALLOWED = TransferCase(
    giver_id="tenant/fan-1",
    recipient_id="tenant/fan-2",
    status=TicketStatus.VALID,
    transfers_allowed=True,
    changed_hands_at_ms=None,
    transfers_in_window=0,
)


def case(**changes: object) -> TransferCase:
    fields = {name: getattr(ALLOWED, name) for name in ALLOWED.__struct_fields__}
    return TransferCase(**(fields | changes))  # type: ignore[arg-type]


def test_transfer_is_allowed_when_every_rule_passes() -> None:
    assert check_transfer(ALLOWED, NOW_MS) is None
    assert check_transfer(case(changed_hands_at_ms=NOW_MS - COOLDOWN_MS), NOW_MS) is None
    assert (
        check_transfer(case(transfers_in_window=limits.TRANSFERS_PER_FAN_PER_DAY_MAX - 1), NOW_MS)
        is None
    )


@pytest.mark.parametrize("status", list(TicketStatus))
def test_transfer_follows_the_state_machine_when_given_any_status(status: TicketStatus) -> None:
    refusal = check_transfer(case(status=status), NOW_MS)

    assert (refusal is None) == (TicketAction.TRANSFER in TRANSITIONS[status])
    assert refusal is STATUS_REFUSALS[status]


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"recipient_id": "tenant/fan-1"}, TransferRefusal.SAME_FAN),
        ({"status": TicketStatus.CHECKED_IN}, TransferRefusal.CHECKED_IN),
        ({"status": TicketStatus.LOCKED}, TransferRefusal.LOCKED),
        ({"claim_pending": True}, TransferRefusal.CLAIM_PENDING),
        ({"transfers_allowed": False}, TransferRefusal.TRANSFERS_DISABLED),
        ({"nft_in_own_wallet": True}, TransferRefusal.OWN_WALLET),
        ({"changed_hands_at_ms": NOW_MS - COOLDOWN_MS + 1}, TransferRefusal.COOLDOWN),
        (
            {"transfers_in_window": limits.TRANSFERS_PER_FAN_PER_DAY_MAX},
            TransferRefusal.DAILY_LIMIT,
        ),
    ],
)
def test_transfer_is_refused_when_one_rule_fails(
    changes: dict[str, object], refusal: TransferRefusal
) -> None:
    assert check_transfer(case(**changes), NOW_MS) is refusal


def test_first_broken_rule_is_the_one_told_when_several_fail() -> None:
    every_rule_broken = case(
        status=TicketStatus.LOCKED,
        transfers_allowed=False,
        changed_hands_at_ms=NOW_MS,
        transfers_in_window=limits.TRANSFERS_PER_FAN_PER_DAY_MAX,
    )

    assert check_transfer(every_rule_broken, NOW_MS) is TransferRefusal.LOCKED
