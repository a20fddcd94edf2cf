"""A venue's stock controls in the engine: withheld units returned from any withholding, general
capacity added, and a new price for the holds to come; with the rejections each can return and
the rebuild from rows agreeing with what they leave."""

import msgspec
import pytest

from engine import limits
from engine.changes import (
    CapacityAdded,
    TicketTypeSaleChanged,
    WaitListOffered,
    WithheldUnitsReturned,
)
from engine.commands import (
    AddCapacity,
    ChangePrice,
    ConvertHold,
    JoinWaitList,
    PlaceHold,
    ReturnWithheldUnits,
    Withholding,
    WithholdUnits,
)
from engine.holds import HoldItem
from engine.inventory.state import Inventory
from engine.outcomes import HoldView
from engine.price_phases import PricePhase
from engine.rejections import Reason
from tests.engine.inventory_builders import (
    GENERAL_PRICE_CENTS,
    accepted,
    build_configuration,
    build_inventory,
    general_hold,
    rejected,
)


def withhold(inventory: Inventory, quantity: int, withholding: Withholding) -> None:
    accepted(
        inventory,
        WithholdUnits(ticket_type_id="GA", quantity=quantity, withholding=withholding),
    )


def test_release_without_a_withholding_returns_kills_first_then_allocations() -> None:
    inventory = build_inventory(general_capacity=20)
    withhold(inventory, 2, Withholding.PRESS)
    withhold(inventory, 3, Withholding.KILL)
    decision = accepted(
        inventory, ReturnWithheldUnits(ticket_type_id="GA", quantity=4, withholding=None)
    )
    assert decision.changes == (
        WithheldUnitsReturned(ticket_type_id="GA", quantity=3, withholding=Withholding.KILL),
        WithheldUnitsReturned(ticket_type_id="GA", quantity=1, withholding=Withholding.PRESS),
    )
    counts = inventory.counts["GA"]
    assert (counts.available, counts.withheld[Withholding.PRESS]) == (19, 1)


def test_release_is_a_validation_error_when_more_than_withheld_in_all() -> None:
    inventory = build_inventory(general_capacity=20)
    withhold(inventory, 2, Withholding.PRESS)
    withhold(inventory, 3, Withholding.KILL)
    refused = rejected(
        inventory,
        ReturnWithheldUnits(ticket_type_id="GA", quantity=6, withholding=None),
        Reason.VALIDATION_ERROR,
    )
    assert refused.details["withheld"] == 5


def test_capacity_grows_available_and_the_configuration_when_added() -> None:
    inventory = build_inventory(general_capacity=3)
    accepted(inventory, general_hold(quantity=3))
    rejected(inventory, general_hold(hold_id="hold-2", fan_id="fan-2", quantity=1), Reason.SOLD_OUT)
    decision = accepted(inventory, AddCapacity(ticket_type_id="GA", quantity=5))
    assert decision.changes == (CapacityAdded(ticket_type_id="GA", quantity=5),)
    counts = inventory.ticket_type_counts("GA")
    assert (counts.capacity, counts.available, counts.held) == (8, 5, 3)
    assert inventory.ticket_types["GA"].capacity == 8
    accepted(inventory, general_hold(hold_id="hold-2", fan_id="fan-2", quantity=1))
    assert Inventory.rebuild(inventory.rows()) == inventory


@pytest.mark.parametrize(
    ("ticket_type_id", "quantity"),
    [("RES", 1), ("NOPE", 1), ("GA", 0), ("GA", limits.CAPACITY_PER_TICKET_TYPE_MAX)],
)
def test_add_capacity_is_a_validation_error_when_seated_unknown_or_out_of_bounds(
    ticket_type_id: str, quantity: int
) -> None:
    inventory = build_inventory()
    rejected(
        inventory,
        AddCapacity(ticket_type_id=ticket_type_id, quantity=quantity),
        Reason.VALIDATION_ERROR,
    )


def held_unit_price(inventory: Inventory, hold_id: str) -> int:
    hold = inventory.holds[hold_id]
    return hold.items[0].unit_price_cents


def test_new_price_applies_to_later_holds_and_earlier_holds_keep_theirs() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1", quantity=1))
    decision = accepted(inventory, ChangePrice(ticket_type_id="GA", price_cents=7_500))
    assert len(decision.changes) == 1 and isinstance(decision.changes[0], TicketTypeSaleChanged)
    accepted(inventory, general_hold(hold_id="hold-2", fan_id="fan-2", quantity=1))
    assert held_unit_price(inventory, "hold-1") == GENERAL_PRICE_CENTS
    assert held_unit_price(inventory, "hold-2") == 7_500
    sale = accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    assert sale.outcome.items == (  # type: ignore[union-attr]
        HoldItem(ticket_type_id="GA", quantity=1, unit_price_cents=GENERAL_PRICE_CENTS),
    )
    assert Inventory.rebuild(inventory.rows()) == inventory


def test_new_price_replaces_the_price_phases_of_the_type() -> None:
    inventory = build_inventory()
    phases = (PricePhase(price_cents=1_000, first=1), PricePhase(price_cents=2_000))
    inventory.replace_ticket_type(
        msgspec.structs.replace(
            inventory.ticket_types["GA"], price_phases=phases, price_cents=1_000
        )
    )
    accepted(inventory, ChangePrice(ticket_type_id="GA", price_cents=3_000))
    assert inventory.ticket_types["GA"].price_phases == ()
    hold = accepted(inventory, general_hold(quantity=2)).outcome
    assert isinstance(hold, HoldView)
    assert hold.subtotal_cents == 6_000


def test_same_price_without_phases_changes_nothing() -> None:
    inventory = build_inventory()
    decision = accepted(
        inventory, ChangePrice(ticket_type_id="GA", price_cents=GENERAL_PRICE_CENTS)
    )
    assert decision.changes == ()


@pytest.mark.parametrize(
    ("ticket_type_id", "price_cents"),
    [("NOPE", 100), ("GA", -1), ("GA", limits.PRICE_CENTS_MAX + 1)],
)
def test_price_is_a_validation_error_when_the_type_or_price_is_bad(
    ticket_type_id: str, price_cents: int
) -> None:
    inventory = build_inventory()
    rejected(
        inventory,
        ChangePrice(ticket_type_id=ticket_type_id, price_cents=price_cents),
        Reason.VALIDATION_ERROR,
    )


def test_controls_under_a_key_are_applied_once() -> None:
    inventory = build_inventory(general_capacity=5)
    command = AddCapacity(ticket_type_id="GA", quantity=2, idempotency_key="key-1")
    accepted(inventory, command)
    assert accepted(inventory, command).changes == ()
    assert inventory.ticket_type_counts("GA").capacity == 7
    other = PlaceHold(new_hold_id="hold-1", fan_id="fan-1", items=(), idempotency_key="key-1")
    rejected(inventory, other, Reason.IDEMPOTENCY_CONFLICT)


def test_capacity_added_is_offered_to_the_wait_list_first() -> None:
    inventory = Inventory(
        msgspec.structs.replace(build_configuration(general_capacity=1), wait_list_enabled=True)
    )
    accepted(inventory, general_hold(quantity=1))
    accepted(
        inventory,
        JoinWaitList(new_entry_id="entry-1", fan_id="fan-2", quantity=1, ticket_type_id="GA"),
    )
    decision = accepted(inventory, AddCapacity(ticket_type_id="GA", quantity=1))
    assert any(isinstance(change, WaitListOffered) for change in decision.changes)
    assert inventory.ticket_type_counts("GA").available == 0
