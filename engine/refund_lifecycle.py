"""The life of one of an order's refunds, as one table of allowed moves.

A refund is opened `pending` (its Stripe idempotency key stored before Stripe is called) and
becomes `succeeded` once Stripe has returned the money, or `failed` when Stripe refused it on
every attempt the outbox gave it (its tickets may then be refunded again).
Change the table, never the callers: the import-time assertions and the tests walk it.
"""

import enum


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundAction(enum.StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"


REFUND_TRANSITIONS: dict[RefundStatus, dict[RefundAction, RefundStatus]] = {
    RefundStatus.PENDING: {
        RefundAction.SUCCEED: RefundStatus.SUCCEEDED,
        RefundAction.FAIL: RefundStatus.FAILED,
    },
    RefundStatus.SUCCEEDED: {},
    RefundStatus.FAILED: {},
}

REFUND_STARTING_STATUS = RefundStatus.PENDING
REFUND_TERMINAL_STATUSES = frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED})

assert set(REFUND_TRANSITIONS) == set(RefundStatus), "every status has a row"
assert {action for moves in REFUND_TRANSITIONS.values() for action in moves} == set(RefundAction), (
    "every action moves some status"
)
assert {
    status for status, moves in REFUND_TRANSITIONS.items() if not moves
} == REFUND_TERMINAL_STATUSES, "a status is terminal exactly when it has no way out"
assert all(
    len({moves[action] for moves in REFUND_TRANSITIONS.values() if action in moves}) == 1
    for action in RefundAction
), "each action leads to one status, wherever it starts"


def next_refund_status(status: RefundStatus, action: RefundAction) -> RefundStatus:
    """The status `action` moves a `status` refund to; an illegal move is a bug."""
    after = REFUND_TRANSITIONS[status].get(action)
    assert after is not None, f"a {status} refund cannot {action}"
    return after


def refund_statuses_left_by(action: RefundAction) -> frozenset[RefundStatus]:
    """The statuses `action` may move a refund out of: the guard of the write that makes it."""
    return frozenset(status for status, moves in REFUND_TRANSITIONS.items() if action in moves)


def refund_status_after(action: RefundAction) -> RefundStatus:
    """The one status `action` moves a refund to, from any status it may leave."""
    (after,) = {moves[action] for moves in REFUND_TRANSITIONS.values() if action in moves}
    return after
