"""The order, payment, refund and hold state machines, walked exhaustively: every status against
every action, and the pairing of an order's moves with its payment's."""

import enum
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from engine.hold_lifecycle import (
    HOLD_STARTING_STATUS,
    HOLD_TERMINAL_STATUSES,
    HOLD_TRANSITIONS,
    HoldAction,
    HoldStatus,
    hold_status_seen_at,
    next_hold_status,
)
from engine.order_lifecycle import (
    CHECKED_OUT_ORDER_STATUS,
    COMPLIMENTARY_ORDER_STATUS,
    ORDER_TERMINAL_STATUSES,
    ORDER_TRANSITIONS,
    PAYMENT_ACTION_OF_ORDER_ACTION,
    OrderAction,
    OrderStatus,
    next_order_status,
    order_statuses_left_by,
)
from engine.payment_lifecycle import (
    PAYMENT_STARTING_STATUS,
    PAYMENT_TERMINAL_STATUSES,
    PAYMENT_TRANSITIONS,
    PaymentAction,
    PaymentStatus,
    next_payment_status,
    payment_statuses_left_by,
)
from engine.refund_lifecycle import (
    REFUND_STARTING_STATUS,
    REFUND_TERMINAL_STATUSES,
    REFUND_TRANSITIONS,
    RefundAction,
    RefundStatus,
    next_refund_status,
    refund_statuses_left_by,
)


class Lifecycle:
    def __init__(
        self,
        name: str,
        statuses: type[enum.StrEnum],
        actions: type[enum.StrEnum],
        transitions: dict[Any, dict[Any, Any]],
        next_status: Callable[[Any, Any], Any],
        terminal: frozenset[Any],
    ) -> None:
        self.name = name
        self.statuses = statuses
        self.actions = actions
        self.transitions = transitions
        self.next_status = next_status
        self.terminal = terminal


LIFECYCLES = [
    Lifecycle(
        "order",
        OrderStatus,
        OrderAction,
        ORDER_TRANSITIONS,
        next_order_status,
        ORDER_TERMINAL_STATUSES,
    ),
    Lifecycle(
        "payment",
        PaymentStatus,
        PaymentAction,
        PAYMENT_TRANSITIONS,
        next_payment_status,
        PAYMENT_TERMINAL_STATUSES,
    ),
    Lifecycle(
        "refund",
        RefundStatus,
        RefundAction,
        REFUND_TRANSITIONS,
        next_refund_status,
        REFUND_TERMINAL_STATUSES,
    ),
    Lifecycle(
        "hold", HoldStatus, HoldAction, HOLD_TRANSITIONS, next_hold_status, HOLD_TERMINAL_STATUSES
    ),
]
EVERY_MOVE = [
    pytest.param(lifecycle, status, action, id=f"{lifecycle.name}-{status}-{action}")
    for lifecycle in LIFECYCLES
    for status, action in itertools.product(lifecycle.statuses, lifecycle.actions)
]


@pytest.mark.parametrize(("lifecycle", "status", "action"), EVERY_MOVE)
def test_move_follows_the_table_when_given_any_status_and_action(
    lifecycle: Lifecycle, status: enum.StrEnum, action: enum.StrEnum
) -> None:
    allowed_target = lifecycle.transitions[status].get(action)
    if allowed_target is None:
        with pytest.raises(AssertionError, match=f"cannot {action}"):
            lifecycle.next_status(status, action)
    else:
        assert lifecycle.next_status(status, action) is allowed_target


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lifecycle: lifecycle.name)
def test_a_terminal_status_is_reachable_when_starting_from_any_status(
    lifecycle: Lifecycle,
) -> None:
    for status in lifecycle.statuses:
        reachable = {status}
        frontier = [status]
        while frontier:
            for target in lifecycle.transitions[frontier.pop()].values():
                if target not in reachable:
                    reachable.add(target)
                    frontier.append(target)
        assert reachable & lifecycle.terminal, status


@pytest.mark.parametrize(
    ("starting_status", "terminal"),
    [
        (CHECKED_OUT_ORDER_STATUS, ORDER_TERMINAL_STATUSES),
        (COMPLIMENTARY_ORDER_STATUS, ORDER_TERMINAL_STATUSES),
        (PAYMENT_STARTING_STATUS, PAYMENT_TERMINAL_STATUSES),
        (REFUND_STARTING_STATUS, REFUND_TERMINAL_STATUSES),
        (HOLD_STARTING_STATUS, HOLD_TERMINAL_STATUSES),
    ],
)
def test_a_starting_status_is_never_terminal_when_a_row_is_born(
    starting_status: enum.StrEnum, terminal: frozenset[enum.StrEnum]
) -> None:
    assert starting_status not in terminal


@pytest.mark.parametrize(
    ("order_status", "order_action"), list(itertools.product(OrderStatus, OrderAction))
)
def test_the_payment_moves_with_its_order_when_the_order_takes_money_or_ends_unpaid(
    order_status: OrderStatus, order_action: OrderAction
) -> None:
    """Every order move that can happen finds its payment in a status the paired move leaves."""
    if order_action not in ORDER_TRANSITIONS[order_status]:
        return
    payment_action = PAYMENT_ACTION_OF_ORDER_ACTION[order_action]
    if payment_action is None:
        return
    payment_statuses_possible = {
        OrderStatus.PENDING_PAYMENT: {PaymentStatus.PENDING},
        OrderStatus.PAID: {PaymentStatus.SUCCEEDED},
        OrderStatus.FULFILLED: {PaymentStatus.SUCCEEDED},
        OrderStatus.PARTIALLY_REFUNDED: {PaymentStatus.SUCCEEDED},
        OrderStatus.PAYMENT_FAILED: {PaymentStatus.FAILED},
        OrderStatus.EXPIRED: {PaymentStatus.CANCELLED},
        OrderStatus.CANCELLED: {PaymentStatus.CANCELLED},
        OrderStatus.REFUNDED: {PaymentStatus.REFUNDED},
    }[order_status]
    assert payment_statuses_possible <= payment_statuses_left_by(payment_action)


def test_the_write_guards_are_the_statuses_each_action_leaves() -> None:
    assert order_statuses_left_by(OrderAction.PAY) == {OrderStatus.PENDING_PAYMENT}
    assert order_statuses_left_by(OrderAction.FULFIL) == {OrderStatus.PAID}
    assert order_statuses_left_by(OrderAction.REFUND) == {
        OrderStatus.PAID,
        OrderStatus.FULFILLED,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.PAYMENT_FAILED,
        OrderStatus.EXPIRED,
        OrderStatus.CANCELLED,
    }
    assert payment_statuses_left_by(PaymentAction.REFUND) == {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.FAILED,
        PaymentStatus.CANCELLED,
    }
    assert order_statuses_left_by(OrderAction.REFUND_PART) == {
        OrderStatus.FULFILLED,
        OrderStatus.PARTIALLY_REFUNDED,
    }
    assert refund_statuses_left_by(RefundAction.SUCCEED) == {RefundStatus.PENDING}
    assert refund_statuses_left_by(RefundAction.FAIL) == {RefundStatus.PENDING}


@pytest.mark.parametrize("status", list(HoldStatus))
def test_a_hold_is_seen_expired_when_it_is_active_past_its_expiry(status: HoldStatus) -> None:
    seen_before = hold_status_seen_at(status, expires_at_ms=1_000, now_ms=999)
    seen_at_expiry = hold_status_seen_at(status, expires_at_ms=1_000, now_ms=1_000)
    assert seen_before is status
    assert seen_at_expiry is (HoldStatus.EXPIRED if status is HoldStatus.ACTIVE else status)
