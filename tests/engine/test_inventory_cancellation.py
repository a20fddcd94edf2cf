"""Cancelling an event: its live holds are released in the same decision, the sale never opens
again, and only what winds the sale down is still taken."""

import pytest

from engine.changes import HoldReleased, SaleCancelled
from engine.commands import (
    CancelSale,
    ChangeSaleSettings,
    Command,
    ConvertHold,
    ExtendHold,
    HoldSeats,
    JoinWaitList,
    PauseSale,
    RefundOrder,
    ReleaseHold,
    ResumeSale,
)
from engine.inventory.cancellation import TAKEN_AFTER_CANCELLATION
from engine.inventory.state import Inventory
from engine.rejections import Reason
from tests.engine.inventory_builders import accepted, build_inventory, general_hold, rejected


def cancelled_with_a_sale_and_holds() -> Inventory:
    inventory = build_inventory()
    accepted(inventory, general_hold("hold-1", "fan-1", quantity=2))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    accepted(inventory, general_hold("hold-2", "fan-2", quantity=3))
    accepted(inventory, HoldSeats(new_hold_id="hold-3", fan_id="fan-3", seats=("101-A-1",)))
    decision = accepted(inventory, CancelSale(reason="storm"))
    assert decision.changes == (
        HoldReleased(hold_id="hold-2"),
        HoldReleased(hold_id="hold-3"),
        SaleCancelled(reason="storm"),
    )
    return inventory


def test_every_live_hold_is_released_when_the_event_is_cancelled() -> None:
    inventory = cancelled_with_a_sale_and_holds()
    assert inventory.cancelled and not inventory.holds
    assert inventory.ticket_type_counts("GA").held == 0
    assert inventory.ticket_type_counts("GA").sold == 2
    assert not inventory.is_on_sale(0) and not inventory.is_on_sale(10**12)


def test_cancelling_again_changes_nothing_when_the_event_is_cancelled() -> None:
    inventory = cancelled_with_a_sale_and_holds()
    assert accepted(inventory, CancelSale(reason="another")).changes == ()


@pytest.mark.parametrize(
    "command",
    [
        general_hold("hold-9", "fan-9"),
        HoldSeats(new_hold_id="hold-9", fan_id="fan-9", seats=("101-A-2",)),
        ConvertHold(hold_id="hold-2", new_order_id="order-9"),
        ExtendHold(hold_id="hold-2", fan_id="fan-2"),
        JoinWaitList(new_entry_id="entry-1", fan_id="fan-9", quantity=1),
        PauseSale(),
        ResumeSale(),
        ChangeSaleSettings(hold_ttl_ms=60_000),
    ],
)
def test_selling_commands_are_event_cancelled_when_the_event_is_cancelled(
    command: Command,
) -> None:
    inventory = cancelled_with_a_sale_and_holds()
    rejected(inventory, command, Reason.EVENT_CANCELLED)


def test_paid_orders_are_still_refunded_when_the_event_is_cancelled() -> None:
    inventory = cancelled_with_a_sale_and_holds()
    accepted(inventory, RefundOrder(order_id="order-1"))
    assert inventory.ticket_type_counts("GA").sold == 0
    assert not inventory.is_on_sale(0)


def test_a_released_hold_answers_as_before_when_the_event_is_cancelled() -> None:
    inventory = cancelled_with_a_sale_and_holds()
    rejected(inventory, ReleaseHold(hold_id="hold-2", fan_id="fan-2"), Reason.NOT_FOUND)


def test_rebuild_keeps_the_cancellation_when_rows_say_so() -> None:
    inventory = cancelled_with_a_sale_and_holds()
    assert Inventory.rebuild(inventory.rows()) == inventory
    assert Inventory.rebuild(inventory.rows()).cancelled


def test_only_winding_down_commands_are_taken_when_the_event_is_cancelled() -> None:
    taken = {command.__name__ for command, taken in TAKEN_AFTER_CANCELLATION.items() if taken}
    assert taken == {
        "ReleaseHold",
        "ExpireHolds",
        "RefundOrder",
        "CancelOrder",
        "ReturnTickets",
        "CancelSale",
        "LeaveWaitList",
    }
