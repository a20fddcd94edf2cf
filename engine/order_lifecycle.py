"""The life of an order, as one table of allowed moves, and the move each makes of its payment.

A checked-out order starts `pending_payment` and is paid then fulfilled, or ends unpaid; a
complimentary one is born `fulfilled`; any order whose money arrived, even too late, may be
refunded, which is final; a fulfilled order may first have some of its tickets or money returned
(`partially_refunded`, as often as it has some left). `cancelled`, named by the schema and API.md,
is entered by nothing today. Change the tables, never the callers: the import-time assertions
and the tests walk them.
"""

import enum

from engine.payment_lifecycle import PAYMENT_TRANSITIONS, PaymentAction


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    PAYMENT_FAILED = "payment_failed"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class OrderAction(enum.StrEnum):
    PAY = "pay"
    FULFIL = "fulfil"
    FAIL_PAYMENT = "fail_payment"
    EXPIRE = "expire"
    REFUND = "refund"
    REFUND_PART = "refund_part"


ORDER_TRANSITIONS: dict[OrderStatus, dict[OrderAction, OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: {
        OrderAction.PAY: OrderStatus.PAID,
        OrderAction.FAIL_PAYMENT: OrderStatus.PAYMENT_FAILED,
        OrderAction.EXPIRE: OrderStatus.EXPIRED,
    },
    OrderStatus.PAID: {
        OrderAction.FULFIL: OrderStatus.FULFILLED,
        OrderAction.REFUND: OrderStatus.REFUNDED,
    },
    OrderStatus.FULFILLED: {
        OrderAction.REFUND: OrderStatus.REFUNDED,
        OrderAction.REFUND_PART: OrderStatus.PARTIALLY_REFUNDED,
    },
    OrderStatus.PARTIALLY_REFUNDED: {
        OrderAction.REFUND: OrderStatus.REFUNDED,
        OrderAction.REFUND_PART: OrderStatus.PARTIALLY_REFUNDED,
    },
    OrderStatus.PAYMENT_FAILED: {OrderAction.REFUND: OrderStatus.REFUNDED},
    OrderStatus.EXPIRED: {OrderAction.REFUND: OrderStatus.REFUNDED},
    OrderStatus.CANCELLED: {OrderAction.REFUND: OrderStatus.REFUNDED},
    OrderStatus.REFUNDED: {},
}

# What the order's move does to its payment (none: the payment stays as it is).
PAYMENT_ACTION_OF_ORDER_ACTION: dict[OrderAction, PaymentAction | None] = {
    OrderAction.PAY: PaymentAction.SUCCEED,
    OrderAction.FULFIL: None,
    OrderAction.FAIL_PAYMENT: PaymentAction.FAIL,
    OrderAction.EXPIRE: PaymentAction.CANCEL,
    OrderAction.REFUND: PaymentAction.REFUND,
    # The payment is refunded only once all of its money went back.
    OrderAction.REFUND_PART: None,
}

CHECKED_OUT_ORDER_STATUS = OrderStatus.PENDING_PAYMENT
COMPLIMENTARY_ORDER_STATUS = OrderStatus.FULFILLED
ORDER_TERMINAL_STATUSES = frozenset({OrderStatus.REFUNDED})
# Orders that ended without taking money: a payment that still arrives is refunded.
ENDED_UNPAID_ORDER_STATUSES = frozenset(
    {OrderStatus.PAYMENT_FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED}
)

assert set(ORDER_TRANSITIONS) == set(OrderStatus), "every status has a row"
assert {action for moves in ORDER_TRANSITIONS.values() for action in moves} == set(OrderAction), (
    "every action moves some status"
)
assert set(PAYMENT_ACTION_OF_ORDER_ACTION) == set(OrderAction), "every action says its payment's"
assert {
    status for status, moves in ORDER_TRANSITIONS.items() if not moves
} == ORDER_TERMINAL_STATUSES, "a status is terminal exactly when it has no way out"
assert all(
    any(payment_action in moves for moves in PAYMENT_TRANSITIONS.values())
    for payment_action in PAYMENT_ACTION_OF_ORDER_ACTION.values()
    if payment_action is not None
), "every paired payment action is one the payment table allows somewhere"

assert all(
    len({moves[action] for moves in ORDER_TRANSITIONS.values() if action in moves}) == 1
    for action in OrderAction
), "each action leads to one status, wherever it starts"


def next_order_status(status: OrderStatus, action: OrderAction) -> OrderStatus:
    """The status `action` moves a `status` order to; an illegal move is a bug."""
    after = ORDER_TRANSITIONS[status].get(action)
    assert after is not None, f"a {status} order cannot {action}"
    return after


def order_statuses_left_by(action: OrderAction) -> frozenset[OrderStatus]:
    """The statuses `action` may move an order out of: the guard of the write that makes it."""
    return frozenset(status for status, moves in ORDER_TRANSITIONS.items() if action in moves)


def order_status_after(action: OrderAction) -> OrderStatus:
    """The one status `action` moves a order to, from any status it may leave."""
    (after,) = {moves[action] for moves in ORDER_TRANSITIONS.values() if action in moves}
    return after
