"""Whether a fan may give a ticket to another fan now, by the rules of API.md's transfers.

A ticket changes hands only from `valid` (the state machine's TRANSFER), never checked in or
locked, nor while it is offered by email to someone who has not claimed it yet, when its event
allows transfers, not while its NFT is in a wallet only the giver can sign
for, not within TRANSFER_COOLDOWN_MS of its last change of hands, and not past the giver's
TRANSFERS_PER_FAN_PER_DAY_MAX. Whether the NFT is minted yet does not matter: it follows the
ticket to whoever holds it when it lands (DESIGN.md rule 9). The rules are checked in the order
of `TransferRefusal`, so the first that fails is the one the fan is told.
"""

import enum

import msgspec

from engine.limits import (
    TRANSFER_COOLDOWN_MS,
    TRANSFERS_PER_FAN_PER_DAY_MAX,
)
from engine.tickets import TRANSITIONS, TicketAction, TicketStatus


class TransferRefusal(enum.StrEnum):
    SAME_FAN = "same_fan"
    CHECKED_IN = "checked_in"
    LOCKED = "locked"
    ENDED = "ended"
    CLAIM_PENDING = "claim_pending"
    TRANSFERS_DISABLED = "transfers_disabled"
    OWN_WALLET = "own_wallet"
    COOLDOWN = "cooldown"
    DAILY_LIMIT = "daily_limit"


STATUS_REFUSALS: dict[TicketStatus, TransferRefusal | None] = {
    TicketStatus.VALID: None,
    TicketStatus.CHECKED_IN: TransferRefusal.CHECKED_IN,
    TicketStatus.TRANSFERRED: TransferRefusal.ENDED,
    TicketStatus.REFUNDED: TransferRefusal.ENDED,
    TicketStatus.REVOKED: TransferRefusal.ENDED,
    TicketStatus.LOCKED: TransferRefusal.LOCKED,
    TicketStatus.EXPIRED: TransferRefusal.ENDED,
    TicketStatus.CANCELLED: TransferRefusal.ENDED,
}
assert set(STATUS_REFUSALS) == set(TicketStatus), "every status says whether it may transfer"
assert {status for status, refusal in STATUS_REFUSALS.items() if refusal is None} == {
    status for status, moves in TRANSITIONS.items() if TicketAction.TRANSFER in moves
}, "a status may transfer exactly when the state machine lets it"


class TransferCase(msgspec.Struct, frozen=True, kw_only=True):
    """What the rules look at. `transfers_in_window` counts the giver's transfers over the last
        TRANSFER_LIMIT_WINDOW_MS; `changed_hands_at_ms` is None for a ticket still with its buyer;
        `nft_in_own_wallet` says the NFT went (or is being minted) to a wallet the giver registered,
        which only the giver can sign for; `claim_pending` that the ticket is offered by email and
    waits for its taker, so it goes nowhere else meanwhile."""

    giver_id: str
    recipient_id: str
    status: TicketStatus
    transfers_allowed: bool
    changed_hands_at_ms: int | None
    transfers_in_window: int
    nft_in_own_wallet: bool = False
    claim_pending: bool = False


def check_transfer(case: TransferCase, now_ms: int) -> TransferRefusal | None:
    """None when the ticket may go to the recipient now, else the first rule it breaks."""
    if case.giver_id == case.recipient_id:
        return TransferRefusal.SAME_FAN
    refusal = STATUS_REFUSALS[case.status]
    if refusal is not None:
        return refusal
    if case.claim_pending:
        return TransferRefusal.CLAIM_PENDING
    if not case.transfers_allowed:
        return TransferRefusal.TRANSFERS_DISABLED
    if case.nft_in_own_wallet:
        return TransferRefusal.OWN_WALLET
    cooldown_ms = TRANSFER_COOLDOWN_MS
    if case.changed_hands_at_ms is not None and now_ms - case.changed_hands_at_ms < cooldown_ms:
        return TransferRefusal.COOLDOWN
    if case.transfers_in_window >= TRANSFERS_PER_FAN_PER_DAY_MAX:
        return TransferRefusal.DAILY_LIMIT
    return None
