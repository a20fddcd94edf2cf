"""A ticket type's own sale window and price phases in the inventory: holds outside the window are
SALE_NOT_OPEN, units are priced by phase one by one and keep their prices, the current phase steps
back when holds are released, and the settings change only before the type's first sale."""

import msgspec
import pytest

from engine.changes import TicketTypeSaleChanged
from engine.commands import (
    ChangeSaleSettings,
    ChangeTicketTypeSales,
    ConvertHold,
    HoldBestAvailable,
    HoldSeats,
    ItemRequest,
    JoinWaitList,
    PlaceHold,
    ReleaseHold,
    TicketTypeSalePatch,
)
from engine.holds import HoldItem
from engine.inventory.configuration import (
    InventoryConfiguration,
    TicketKind,
    TicketTypeDefinition,
    validate_configuration,
)
from engine.inventory.decision import current_unit_price_cents
from engine.inventory.rows import InventoryRows
from engine.inventory.state import Inventory
from engine.inventory.wait_list import WaitListStatus
from engine.outcomes import HoldView, SaleView
from engine.price_phases import PricePhase
from engine.rejections import Reason
from tests.engine.inventory_builders import (
    CLOSES_AT_MS,
    NOW_MS,
    OPENS_AT_MS,
    accepted,
    build_configuration,
    general_hold,
    rejected,
)

FROM_MS = OPENS_AT_MS + 100_000
UNTIL_MS = OPENS_AT_MS + 200_000
PHASE_UNTIL_MS = OPENS_AT_MS + 500_000
PHASES = (
    PricePhase(price_cents=4_000, first=5),
    PricePhase(price_cents=4_500, until_ms=PHASE_UNTIL_MS),
    PricePhase(price_cents=5_000),
)
ROWS_DECODER = msgspec.json.Decoder(InventoryRows)


def configured(**types: dict[str, object]) -> InventoryConfiguration:
    """The builders' event, with the given fields set on the types named."""
    configuration = build_configuration(general_capacity=20, max_tickets_per_user=None)
    return msgspec.structs.replace(
        configuration,
        ticket_types=tuple(
            msgspec.structs.replace(ticket_type, **types.get(ticket_type.ticket_type_id, {}))
            for ticket_type in configuration.ticket_types
        ),
    )


def phased_inventory() -> Inventory:
    return Inventory(configured(GA={"price_phases": PHASES, "price_cents": 4_000}))


def windowed_inventory(**window: int) -> Inventory:
    return Inventory(configured(GA=window, RES=window))


def items_of(view: HoldView | SaleView) -> list[tuple[str, int, int]]:
    return [(item.ticket_type_id, item.quantity, item.unit_price_cents) for item in view.items]


def hold_of(inventory: Inventory, quantity: int, hold_id: str, now_ms: int = NOW_MS) -> HoldView:
    outcome = accepted(
        inventory, general_hold(hold_id=hold_id, fan_id=hold_id, quantity=quantity), now_ms
    ).outcome
    assert isinstance(outcome, HoldView)
    return outcome


def assert_rebuilds(inventory: Inventory) -> None:
    rebuilt = Inventory.rebuild(ROWS_DECODER.decode(msgspec.json.encode(inventory.rows())))
    rebuilt.assert_consistent()
    assert rebuilt == inventory
    assert rebuilt.configuration == inventory.configuration


# Sale windows


@pytest.mark.parametrize("now_ms", [FROM_MS - 1, UNTIL_MS, UNTIL_MS + 1])
def test_every_kind_of_hold_is_sale_not_open_when_outside_the_types_window(now_ms: int) -> None:
    inventory = windowed_inventory(on_sale_from_ms=FROM_MS, on_sale_until_ms=UNTIL_MS)
    refusal = rejected(inventory, general_hold(), Reason.SALE_NOT_OPEN, now_ms)
    assert refusal.details == {"ticket_type_ids": ["GA"]}
    rejected(
        inventory,
        HoldSeats(new_hold_id="hold-2", fan_id="fan-1", seats=("101-A-1",)),
        Reason.SALE_NOT_OPEN,
        now_ms,
    )
    rejected(
        inventory,
        HoldBestAvailable(new_hold_id="hold-3", fan_id="fan-1", ticket_type_id="RES", quantity=1),
        Reason.SALE_NOT_OPEN,
        now_ms,
    )


@pytest.mark.parametrize("now_ms", [FROM_MS, UNTIL_MS - 1])
def test_every_kind_of_hold_is_placed_when_inside_the_types_window(now_ms: int) -> None:
    inventory = windowed_inventory(on_sale_from_ms=FROM_MS, on_sale_until_ms=UNTIL_MS)
    accepted(inventory, general_hold(), now_ms)
    accepted(inventory, HoldSeats(new_hold_id="hold-2", fan_id="f", seats=("101-A-1",)), now_ms)
    accepted(
        inventory,
        HoldBestAvailable(new_hold_id="hold-3", fan_id="g", ticket_type_id="RES", quantity=1),
        now_ms,
    )


def test_a_hold_mixing_types_is_refused_when_one_type_is_outside_its_window() -> None:
    configuration = configured(GA={"on_sale_from_ms": FROM_MS})
    configuration = msgspec.structs.replace(
        configuration,
        ticket_types=(
            *configuration.ticket_types,
            TicketTypeDefinition(
                ticket_type_id="VIP", kind=TicketKind.GENERAL, price_cents=9_000, capacity=5
            ),
        ),
    )
    inventory = Inventory(configuration)
    mixed = PlaceHold(
        new_hold_id="hold-1",
        fan_id="fan-1",
        items=(
            ItemRequest(ticket_type_id="VIP", quantity=1),
            ItemRequest(ticket_type_id="GA", quantity=1),
        ),
    )
    refusal = rejected(inventory, mixed, Reason.SALE_NOT_OPEN, FROM_MS - 1)
    assert refusal.details == {"ticket_type_ids": ["GA"]}
    accepted(inventory, mixed, FROM_MS)


def test_the_event_window_is_checked_before_the_types_own() -> None:
    inventory = windowed_inventory(on_sale_from_ms=FROM_MS)
    refusal = rejected(inventory, general_hold(), Reason.SALE_NOT_OPEN, OPENS_AT_MS - 1)
    assert refusal.details == {}


def test_a_wait_list_offer_skips_a_type_outside_its_window() -> None:
    configuration = msgspec.structs.replace(
        configured(GA={"on_sale_until_ms": UNTIL_MS}), wait_list_enabled=True
    )
    inventory = Inventory(configuration)
    join = JoinWaitList(
        new_entry_id="entry-1", fan_id="fan-2", quantity=2, ticket_type_id="GA", email="f@x.io"
    )
    accepted(inventory, join, UNTIL_MS)
    assert inventory.wait_list.entries["entry-1"].status is WaitListStatus.WAITING
    anything = msgspec.structs.replace(join, new_entry_id="entry-2", fan_id="fan-3")
    accepted(inventory, msgspec.structs.replace(anything, ticket_type_id=None), UNTIL_MS)
    offered = inventory.wait_list.entries["entry-2"]
    assert offered.status is WaitListStatus.OFFERED and offered.hold_id is not None
    assert inventory.holds[offered.hold_id].items[0].ticket_type_id == "RES"


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"on_sale_from_ms": OPENS_AT_MS - 1}, "on_sale_from"),
        ({"on_sale_from_ms": CLOSES_AT_MS}, "on_sale_from"),
        ({"on_sale_until_ms": CLOSES_AT_MS + 1}, "on_sale_until"),
        ({"on_sale_from_ms": UNTIL_MS, "on_sale_until_ms": FROM_MS}, "on_sale_until"),
    ],
)
def test_a_window_outside_the_events_or_reversed_is_refused(
    window: dict[str, int], field: str
) -> None:
    refusal = validate_configuration(configured(GA=window))
    assert refusal is not None and refusal.reason is Reason.VALIDATION_ERROR
    assert f"GA: {field} must" in refusal.message


def test_the_event_window_cannot_shrink_past_a_types_own_window() -> None:
    inventory = windowed_inventory(on_sale_until_ms=UNTIL_MS)
    refusal = rejected(
        inventory, ChangeSaleSettings(closes_at_ms=UNTIL_MS - 1), Reason.VALIDATION_ERROR
    )
    assert refusal.details == {"field": "closes_at"}
    accepted(inventory, ChangeSaleSettings(closes_at_ms=UNTIL_MS))


# Price phases


def test_phases_step_at_exactly_first_units_and_a_straddling_hold_prices_each_unit() -> None:
    inventory = phased_inventory()
    assert items_of(hold_of(inventory, 4, "hold-1")) == [("GA", 4, 4_000)]
    assert current_unit_price_cents(inventory, "GA", NOW_MS) == 4_000
    straddling = hold_of(inventory, 2, "hold-2")
    assert items_of(straddling) == [("GA", 1, 4_000), ("GA", 1, 4_500)]
    assert straddling.subtotal_cents == 8_500
    assert current_unit_price_cents(inventory, "GA", NOW_MS) == 4_500
    assert_rebuilds(inventory)


def test_a_phase_ends_at_its_until() -> None:
    inventory = phased_inventory()
    hold_of(inventory, 5, "hold-1")
    assert items_of(hold_of(inventory, 1, "hold-2", PHASE_UNTIL_MS - 1)) == [("GA", 1, 4_500)]
    assert items_of(hold_of(inventory, 1, "hold-3", PHASE_UNTIL_MS)) == [("GA", 1, 5_000)]


def test_the_phase_steps_back_when_a_hold_is_released_and_the_other_holds_keep_their_prices() -> (
    None
):
    inventory = phased_inventory()
    first = hold_of(inventory, 5, "hold-1")
    later = hold_of(inventory, 2, "hold-2")
    assert items_of(later) == [("GA", 2, 4_500)]
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="hold-1"))
    assert current_unit_price_cents(inventory, "GA", NOW_MS) == 4_000
    assert inventory.holds["hold-2"].items == (
        HoldItem(ticket_type_id="GA", quantity=2, unit_price_cents=4_500),
    )
    assert items_of(first) == [("GA", 5, 4_000)]
    assert items_of(hold_of(inventory, 4, "hold-3")) == [("GA", 3, 4_000), ("GA", 1, 4_500)]


def test_a_sale_keeps_the_unit_prices_of_its_hold() -> None:
    inventory = phased_inventory()
    hold_of(inventory, 4, "hold-1")
    hold_of(inventory, 3, "hold-2")
    outcome = accepted(inventory, ConvertHold(hold_id="hold-2", new_order_id="order-1")).outcome
    assert isinstance(outcome, SaleView)
    assert items_of(outcome) == [("GA", 1, 4_000), ("GA", 2, 4_500)]
    assert inventory.sales["order-1"].subtotal_cents == 13_000
    assert current_unit_price_cents(inventory, "GA", NOW_MS) == 4_500
    assert_rebuilds(inventory)


def test_seats_straddling_a_boundary_are_priced_in_seat_order() -> None:
    phases = (PricePhase(price_cents=7_000, first=1), PricePhase(price_cents=8_000))
    inventory = Inventory(configured(RES={"price_phases": phases, "price_cents": 7_000}))
    seats = HoldSeats(new_hold_id="hold-1", fan_id="fan-1", seats=("101-A-2", "101-A-1"))
    outcome = accepted(inventory, seats).outcome
    assert isinstance(outcome, HoldView)
    assert items_of(outcome) == [("RES", 1, 7_000), ("RES", 1, 8_000)]


def test_a_phased_types_price_must_be_its_first_phases() -> None:
    refusal = validate_configuration(configured(GA={"price_phases": PHASES, "price_cents": 1}))
    assert refusal is not None
    assert "GA: price_cents, when given with price_phases, is the first phase's" in refusal.message


# Changing a type's window and phases


def test_a_types_phases_and_window_change_before_its_first_sale() -> None:
    inventory = phased_inventory()
    patch = TicketTypeSalePatch(
        ticket_type_id="GA",
        price_phases=(PricePhase(price_cents=3_000, first=1), PricePhase(price_cents=3_500)),
        on_sale_from_ms=FROM_MS,
    )
    decision = accepted(inventory, ChangeTicketTypeSales(patches=(patch,)))
    assert decision.changes == (
        TicketTypeSaleChanged(
            ticket_type_id="GA",
            price_cents=3_000,
            on_sale_from_ms=FROM_MS,
            on_sale_until_ms=None,
            price_phases=patch.price_phases,  # type: ignore[arg-type]
        ),
    )
    rejected(inventory, general_hold(), Reason.SALE_NOT_OPEN)
    assert items_of(hold_of(inventory, 2, "hold-1", FROM_MS)) == [
        ("GA", 1, 3_000),
        ("GA", 1, 3_500),
    ]
    assert_rebuilds(inventory)


def test_dropping_the_phases_keeps_the_price_the_type_shows_and_a_bound_can_be_cleared() -> None:
    inventory = Inventory(configured(GA={"on_sale_until_ms": UNTIL_MS}))
    patch = TicketTypeSalePatch(ticket_type_id="GA", price_phases=(), on_sale_until_ms=None)
    accepted(inventory, ChangeTicketTypeSales(patches=(patch,)))
    ticket_type = inventory.ticket_types["GA"]
    assert (ticket_type.price_phases, ticket_type.on_sale_until_ms) == ((), None)
    assert items_of(hold_of(inventory, 1, "hold-1", UNTIL_MS)) == [("GA", 1, 5_000)]


def test_an_unchanged_patch_records_no_change() -> None:
    inventory = phased_inventory()
    patch = TicketTypeSalePatch(ticket_type_id="GA", price_phases=PHASES)
    assert accepted(inventory, ChangeTicketTypeSales(patches=(patch,))).changes == ()


@pytest.mark.parametrize("convert", [False, True])
def test_a_types_settings_do_not_change_once_it_is_held_or_sold(convert: bool) -> None:
    inventory = phased_inventory()
    hold_of(inventory, 1, "hold-1")
    if convert:
        accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    patch = TicketTypeSalePatch(ticket_type_id="GA", price_phases=(PricePhase(price_cents=1),))
    refusal = rejected(inventory, ChangeTicketTypeSales(patches=(patch,)), Reason.VALIDATION_ERROR)
    assert refusal.details == {"field": "price_phases", "ticket_type_id": "GA"}
    assert "cannot change once the ticket type has sold or held" in refusal.message
    other = TicketTypeSalePatch(ticket_type_id="RES", on_sale_from_ms=FROM_MS)
    accepted(inventory, ChangeTicketTypeSales(patches=(other,)))


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        (
            TicketTypeSalePatch(ticket_type_id="GA", on_sale_until_ms=CLOSES_AT_MS + 1),
            "on_sale_until",
        ),
        (
            TicketTypeSalePatch(
                ticket_type_id="GA", price_phases=(PricePhase(price_cents=1, first=2),)
            ),
            "price_phases",
        ),
        (TicketTypeSalePatch(ticket_type_id="NOPE", on_sale_from_ms=FROM_MS), "ticket_types"),
    ],
)
def test_a_bad_patch_is_refused_naming_its_field_and_changes_nothing(
    patch: TicketTypeSalePatch, field: str
) -> None:
    inventory = phased_inventory()
    good = TicketTypeSalePatch(ticket_type_id="RES", on_sale_from_ms=FROM_MS)
    refusal = rejected(
        inventory, ChangeTicketTypeSales(patches=(good, patch)), Reason.VALIDATION_ERROR
    )
    assert refusal.details["field"] == field
    assert inventory.ticket_types["RES"].on_sale_from_ms is None


def test_a_type_named_twice_in_one_change_is_refused() -> None:
    inventory = phased_inventory()
    patch = TicketTypeSalePatch(ticket_type_id="GA", on_sale_from_ms=FROM_MS)
    rejected(inventory, ChangeTicketTypeSales(patches=(patch, patch)), Reason.VALIDATION_ERROR)
