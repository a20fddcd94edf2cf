"""Changing the sale's settings: each change applies to what comes after it, holds keep their
expiry, a lowered per-fan limit keeps what fans have, and a bad change changes nothing."""

import msgspec
import pytest

from engine import limits
from engine.changes import SaleSettingsChanged
from engine.commands import ChangeSaleSettings, Command, ConvertHold, ItemRequest, PlaceHold
from engine.inventory.configuration import validate_configuration
from engine.inventory.rows import InventoryRows
from engine.inventory.state import Inventory
from engine.outcomes import HoldView
from engine.rejections import Reason
from tests.engine.inventory_builders import (
    CLOSES_AT_MS,
    HOLD_TTL_MS,
    NOW_MS,
    OPENS_AT_MS,
    accepted,
    build_configuration,
    build_inventory,
    general_hold,
    rejected,
)


def placed(inventory: Inventory, command: Command, now_ms: int = NOW_MS) -> HoldView:
    outcome = accepted(inventory, command, now_ms).outcome
    assert isinstance(outcome, HoldView), outcome
    return outcome


def test_new_holds_get_the_new_time_to_live_when_it_changed_and_older_holds_keep_theirs() -> None:
    inventory = build_inventory()
    before = placed(inventory, general_hold(hold_id="hold-1"))

    accepted(inventory, ChangeSaleSettings(hold_ttl_ms=30_000), NOW_MS + 10)
    after = placed(inventory, general_hold(hold_id="hold-2", fan_id="fan-2"), NOW_MS + 20)

    assert before.expires_at_ms == NOW_MS + HOLD_TTL_MS
    assert after.expires_at_ms == NOW_MS + 20 + 30_000
    assert inventory.holds["hold-1"].expires_at_ms == NOW_MS + HOLD_TTL_MS


def test_next_hold_past_a_lowered_limit_is_refused_when_the_fan_keeps_what_it_holds() -> None:
    inventory = build_inventory(max_tickets_per_user=6)
    placed(inventory, general_hold(hold_id="hold-1", quantity=4))

    accepted(inventory, ChangeSaleSettings(max_tickets_per_user=2))
    refusal = rejected(inventory, general_hold(hold_id="hold-2", quantity=1), Reason.LIMIT_EXCEEDED)

    assert refusal.details == {"limit": 2, "already": 4}
    assert inventory.tickets_of_fan("fan-1") == 4
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    assert inventory.tickets_of_fan("fan-1") == 4
    placed(inventory, general_hold(hold_id="hold-3", fan_id="fan-2", quantity=2))
    rejected(
        inventory, general_hold(hold_id="hold-4", fan_id="fan-2", quantity=1), Reason.LIMIT_EXCEEDED
    )


def test_one_fan_holds_five_hundred_when_the_event_sets_no_limit() -> None:
    inventory = build_inventory(general_capacity=2_000, max_tickets_per_user=None)

    first = placed(inventory, general_hold(hold_id="hold-1", quantity=500))
    most = placed(
        inventory,
        general_hold(hold_id="hold-2", quantity=limits.UNITS_PER_GENERAL_HOLD_MAX),
    )

    assert sum(item.quantity for item in first.items) == 500
    assert inventory.tickets_of_fan("fan-1") == 500 + limits.UNITS_PER_GENERAL_HOLD_MAX
    assert sum(item.quantity for item in most.items) == limits.UNITS_PER_GENERAL_HOLD_MAX


def test_limit_goes_when_it_is_changed_to_none() -> None:
    inventory = build_inventory(general_capacity=1_000, max_tickets_per_user=2)
    rejected(inventory, general_hold(quantity=500), Reason.LIMIT_EXCEEDED)

    accepted(inventory, ChangeSaleSettings(max_tickets_per_user=None))

    assert inventory.configuration.max_tickets_per_user is None
    placed(inventory, general_hold(quantity=500))


def test_holds_pass_again_when_closes_at_moves_later_after_the_sale_closed() -> None:
    inventory = build_inventory()
    after_close_ms = CLOSES_AT_MS + 1_000
    rejected(inventory, general_hold(), Reason.SALE_NOT_OPEN, after_close_ms)

    accepted(inventory, ChangeSaleSettings(closes_at_ms=CLOSES_AT_MS + 60_000), after_close_ms)

    placed(inventory, general_hold(), after_close_ms)


def test_sale_opens_and_closes_with_opens_at_when_it_moves() -> None:
    inventory = build_inventory()
    accepted(inventory, ChangeSaleSettings(opens_at_ms=NOW_MS + 5_000))
    rejected(inventory, general_hold(), Reason.SALE_NOT_OPEN)

    accepted(inventory, ChangeSaleSettings(opens_at_ms=OPENS_AT_MS - 5_000))

    placed(inventory, general_hold())
    assert inventory.is_on_sale(OPENS_AT_MS - 5_000)


def test_fields_left_unset_stay_as_they_were_when_one_setting_changes() -> None:
    inventory = build_inventory(max_tickets_per_user=4)

    decision = accepted(inventory, ChangeSaleSettings(closes_at_ms=CLOSES_AT_MS + 1))

    assert decision.changes == (
        SaleSettingsChanged(
            opens_at_ms=OPENS_AT_MS,
            closes_at_ms=CLOSES_AT_MS + 1,
            hold_ttl_ms=HOLD_TTL_MS,
            max_tickets_per_user=4,
        ),
    )


def test_no_change_is_recorded_when_the_settings_are_what_they_were() -> None:
    inventory = build_inventory(max_tickets_per_user=4)
    command = ChangeSaleSettings(
        opens_at_ms=OPENS_AT_MS, hold_ttl_ms=HOLD_TTL_MS, max_tickets_per_user=4
    )
    assert accepted(inventory, command).changes == ()
    assert accepted(inventory, ChangeSaleSettings()).changes == ()


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (ChangeSaleSettings(closes_at_ms=OPENS_AT_MS), "closes_at"),
        (ChangeSaleSettings(opens_at_ms=CLOSES_AT_MS + 1), "opens_at"),
        (
            ChangeSaleSettings(opens_at_ms=CLOSES_AT_MS, closes_at_ms=CLOSES_AT_MS),
            "closes_at",
        ),
        (ChangeSaleSettings(hold_ttl_ms=limits.HOLD_TTL_S_MIN * 1_000 - 1_000), "hold_ttl_s"),
        (ChangeSaleSettings(hold_ttl_ms=limits.HOLD_TTL_S_MAX * 1_000 + 1_000), "hold_ttl_s"),
        (ChangeSaleSettings(hold_ttl_ms=30_500), "hold_ttl_s"),
        (ChangeSaleSettings(max_tickets_per_user=0), "max_tickets_per_user"),
        (
            ChangeSaleSettings(max_tickets_per_user=limits.TICKETS_PER_USER_MAX + 1),
            "max_tickets_per_user",
        ),
    ],
)
def test_validation_error_naming_the_field_when_a_new_setting_is_not_allowed(
    command: ChangeSaleSettings, field: str
) -> None:
    inventory = build_inventory()
    refusal = rejected(inventory, command, Reason.VALIDATION_ERROR)
    assert refusal.details == {"field": field}


def test_highest_limit_and_no_limit_are_valid_when_an_event_is_configured() -> None:
    assert validate_configuration(build_configuration(max_tickets_per_user=None)) is None
    highest = build_configuration(max_tickets_per_user=limits.TICKETS_PER_USER_MAX)
    assert validate_configuration(highest) is None
    too_high = build_configuration(max_tickets_per_user=limits.TICKETS_PER_USER_MAX + 1)
    assert validate_configuration(too_high) is not None


def test_no_limit_and_unset_fields_stay_apart_when_a_command_crosses_the_wire() -> None:
    decoder = msgspec.msgpack.Decoder(list[Command])
    sent: list[Command] = [
        ChangeSaleSettings(max_tickets_per_user=None),
        ChangeSaleSettings(hold_ttl_ms=60_000),
    ]

    received = decoder.decode(msgspec.msgpack.encode(sent))

    assert received == sent
    assert isinstance(received[1], ChangeSaleSettings)
    assert received[1].max_tickets_per_user is msgspec.UNSET


def test_changed_settings_are_rebuilt_when_read_back_from_the_rows() -> None:
    inventory = build_inventory(general_capacity=1_000)
    placed(inventory, general_hold(hold_id="hold-1", quantity=5))
    accepted(
        inventory,
        ChangeSaleSettings(
            closes_at_ms=CLOSES_AT_MS + 1_000, hold_ttl_ms=120_000, max_tickets_per_user=2
        ),
    )
    placed(
        inventory,
        PlaceHold(
            new_hold_id="hold-2",
            fan_id="fan-2",
            items=(ItemRequest(ticket_type_id="GA", quantity=2),),
        ),
    )

    rows = msgspec.json.decode(msgspec.json.encode(inventory.rows()), type=InventoryRows)
    rebuilt = Inventory.rebuild(rows)

    rebuilt.assert_consistent()
    assert rebuilt == inventory
    assert rebuilt.configuration.max_tickets_per_user == 2
    assert rebuilt.tickets_of_fan("fan-1") == 5
