"""The life of a ticket after it is sold, as one table of allowed transitions.

A ticket is born `valid`: it admits and transfers from the moment it is issued, and its NFT is a
record that follows (DESIGN.md rule 9), so no status waits on the chain. The old platform let any
code write any status; here a ticket moves only along `TRANSITIONS`, each move names an action,
and the actions that need a reason accept only the reasons in `ACTION_REASONS`. Change the table,
never the callers: the import-time assertions and the tests walk it exhaustively.
"""

import enum

import msgspec

from engine.rejections import Reason, Rejected


class TicketStatus(enum.StrEnum):
    VALID = "valid"
    CHECKED_IN = "checked_in"
    TRANSFERRED = "transferred"
    REFUNDED = "refunded"
    REVOKED = "revoked"
    LOCKED = "locked"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class TicketAction(enum.StrEnum):
    CHECK_IN = "check_in"
    TRANSFER = "transfer"
    REFUND = "refund"
    REVOKE = "revoke"
    LOCK = "lock"
    UNLOCK = "unlock"
    EXPIRE = "expire"
    CANCEL = "cancel"


class TicketReason(enum.StrEnum):
    """Why a ticket left circulation or was frozen."""

    REFUND = "refund"
    REVOKE = "revoke"
    DUPLICATE = "duplicate"
    FRAUD = "fraud"
    CHARGEBACK = "chargeback"
    DISPUTE = "dispute"
    LEGAL_HOLD = "legal_hold"


LOCK_REASONS = frozenset(
    {TicketReason.FRAUD, TicketReason.CHARGEBACK, TicketReason.DISPUTE, TicketReason.LEGAL_HOLD}
)

ACTION_REASONS: dict[TicketAction, frozenset[TicketReason]] = {
    TicketAction.CHECK_IN: frozenset(),
    TicketAction.TRANSFER: frozenset(),
    TicketAction.REFUND: frozenset({TicketReason.REFUND}),
    TicketAction.REVOKE: frozenset(
        {TicketReason.REVOKE, TicketReason.DUPLICATE, TicketReason.FRAUD, TicketReason.CHARGEBACK}
    ),
    TicketAction.LOCK: LOCK_REASONS,
    TicketAction.UNLOCK: frozenset(),
    TicketAction.EXPIRE: frozenset(),
    TicketAction.CANCEL: frozenset(),
}

TRANSITIONS: dict[TicketStatus, dict[TicketAction, TicketStatus]] = {
    TicketStatus.VALID: {
        TicketAction.CHECK_IN: TicketStatus.CHECKED_IN,
        TicketAction.TRANSFER: TicketStatus.TRANSFERRED,
        TicketAction.REFUND: TicketStatus.REFUNDED,
        TicketAction.REVOKE: TicketStatus.REVOKED,
        TicketAction.LOCK: TicketStatus.LOCKED,
        TicketAction.EXPIRE: TicketStatus.EXPIRED,
        TicketAction.CANCEL: TicketStatus.CANCELLED,
    },
    TicketStatus.LOCKED: {
        TicketAction.UNLOCK: TicketStatus.VALID,
        TicketAction.REFUND: TicketStatus.REFUNDED,
        TicketAction.REVOKE: TicketStatus.REVOKED,
        TicketAction.EXPIRE: TicketStatus.EXPIRED,
        TicketAction.CANCEL: TicketStatus.CANCELLED,
    },
    TicketStatus.CHECKED_IN: {},
    TicketStatus.TRANSFERRED: {},
    TicketStatus.REFUNDED: {},
    TicketStatus.REVOKED: {},
    TicketStatus.EXPIRED: {},
    TicketStatus.CANCELLED: {},
}

TERMINAL_STATUSES = frozenset(
    {
        TicketStatus.CHECKED_IN,
        TicketStatus.TRANSFERRED,
        TicketStatus.REFUNDED,
        TicketStatus.REVOKED,
        TicketStatus.EXPIRED,
        TicketStatus.CANCELLED,
    }
)

# A live ticket holds its seat and its NFT; one that ended before its NFT landed never gets one.
LIVE_STATUSES = frozenset({TicketStatus.VALID, TicketStatus.CHECKED_IN, TicketStatus.LOCKED})

assert set(TRANSITIONS) == set(TicketStatus), "every status has a row"
assert set(ACTION_REASONS) == set(TicketAction), "every action says which reasons it takes"
assert {status for status, moves in TRANSITIONS.items() if not moves} == TERMINAL_STATUSES, (
    "a status is terminal exactly when it has no way out"
)


class TicketMoved(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    before: TicketStatus
    action: TicketAction
    after: TicketStatus
    reason: TicketReason | None


def move_ticket(
    status: TicketStatus, action: TicketAction, reason: TicketReason | None = None
) -> TicketMoved | Rejected:
    """The move `action` makes from `status`, or VALIDATION_ERROR when the table forbids it.

    A transferred ticket ends here; the recipient's ticket starts again as VALID.
    """
    allowed_reasons = ACTION_REASONS[action]
    if allowed_reasons and reason not in allowed_reasons:
        return Rejected(
            reason=Reason.VALIDATION_ERROR,
            message=f"{action} needs one of the reasons {sorted(allowed_reasons)}",
            details={"reason": reason},
        )
    if not allowed_reasons and reason is not None:
        return Rejected(
            reason=Reason.VALIDATION_ERROR,
            message=f"{action} takes no reason",
            details={"reason": reason},
        )
    after = TRANSITIONS[status].get(action)
    if after is None:
        return Rejected(
            reason=Reason.VALIDATION_ERROR,
            message=f"a {status} ticket cannot {action}",
            details={"status": status, "action": action},
        )
    return TicketMoved(before=status, action=action, after=after, reason=reason)
