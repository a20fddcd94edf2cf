"""The life of an order's one payment (its Stripe PaymentIntent), as one table of allowed moves.

A payment starts `pending`, ends `succeeded`, `failed` or `cancelled` with its order, and any of
those three becomes `refunded` when the money goes back (a late payment on an ended order too).
Persistence writes a payment's status only along `PAYMENT_TRANSITIONS`; change the table, never
the callers: the import-time assertions and the tests walk it exhaustively.
"""

import enum


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class PaymentAction(enum.StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    CANCEL = "cancel"
    REFUND = "refund"


PAYMENT_TRANSITIONS: dict[PaymentStatus, dict[PaymentAction, PaymentStatus]] = {
    PaymentStatus.PENDING: {
        PaymentAction.SUCCEED: PaymentStatus.SUCCEEDED,
        PaymentAction.FAIL: PaymentStatus.FAILED,
        PaymentAction.CANCEL: PaymentStatus.CANCELLED,
    },
    PaymentStatus.SUCCEEDED: {PaymentAction.REFUND: PaymentStatus.REFUNDED},
    PaymentStatus.FAILED: {PaymentAction.REFUND: PaymentStatus.REFUNDED},
    PaymentStatus.CANCELLED: {PaymentAction.REFUND: PaymentStatus.REFUNDED},
    PaymentStatus.REFUNDED: {},
}

PAYMENT_STARTING_STATUS = PaymentStatus.PENDING
PAYMENT_TERMINAL_STATUSES = frozenset({PaymentStatus.REFUNDED})

assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus), "every status has a row"
assert {action for moves in PAYMENT_TRANSITIONS.values() for action in moves} == set(
    PaymentAction
), "every action moves some status"
assert {
    status for status, moves in PAYMENT_TRANSITIONS.items() if not moves
} == PAYMENT_TERMINAL_STATUSES, "a status is terminal exactly when it has no way out"
assert all(
    len({moves[action] for moves in PAYMENT_TRANSITIONS.values() if action in moves}) == 1
    for action in PaymentAction
), "each action leads to one status, wherever it starts"


def next_payment_status(status: PaymentStatus, action: PaymentAction) -> PaymentStatus:
    """The status `action` moves a `status` payment to; an illegal move is a bug."""
    after = PAYMENT_TRANSITIONS[status].get(action)
    assert after is not None, f"a {status} payment cannot {action}"
    return after


def payment_statuses_left_by(action: PaymentAction) -> frozenset[PaymentStatus]:
    """The statuses `action` may move a payment out of: the guard of the write that makes it."""
    return frozenset(status for status, moves in PAYMENT_TRANSITIONS.items() if action in moves)


def payment_status_after(action: PaymentAction) -> PaymentStatus:
    """The one status `action` moves a payment to, from any status it may leave."""
    (after,) = {moves[action] for moves in PAYMENT_TRANSITIONS.values() if action in moves}
    return after
