"""Accessible and companion seats: best available leaves them alone unless the fan asks for
accessible seats (then offers them first), a named-seat hold may take them, and from the release
moment passed in they sell as any other seat. The marked numbers must be seats of their row."""

import msgspec
import pytest

from engine.commands import ChangeSaleSettings, HoldBestAvailable, HoldSeats
from engine.inventory.configuration import validate_configuration
from engine.inventory.state import Inventory
from engine.outcomes import HoldView
from engine.rejections import Reason
from engine.seat_map import RowLayout, SectionLayout
from tests.engine.inventory_builders import NOW_MS, accepted, build_configuration, rejected

RELEASE_AT_MS = NOW_MS + 10_000


def marked_inventory(release_at_ms: int | None = RELEASE_AT_MS) -> Inventory:
    """One row of six: seats 3 and 4 accessible, 5 companion."""
    row = RowLayout(row_id="A", seats=6, accessible=(3, 4), companion=(5,))
    section = SectionLayout(section_id="101", ticket_type_id="RES", rows=(row,))
    configuration = build_configuration(sections=(section,))
    return Inventory(msgspec.structs.replace(configuration, accessible_release_at_ms=release_at_ms))


def best(
    quantity: int, *, accessible: bool = False, contiguous: bool = True, hold_id: str = "hold-1"
) -> HoldBestAvailable:
    return HoldBestAvailable(
        new_hold_id=hold_id,
        fan_id=f"fan-{hold_id}",
        ticket_type_id="RES",
        quantity=quantity,
        contiguous=contiguous,
        accessible=accessible,
    )


def held_seats(
    inventory: Inventory, command: HoldBestAvailable, now_ms: int = NOW_MS
) -> tuple[str, ...]:
    outcome = accepted(inventory, command, now_ms).outcome
    assert isinstance(outcome, HoldView)
    return outcome.seats


def test_best_available_never_gives_marked_seats_to_an_ordinary_request() -> None:
    inventory = marked_inventory()
    assert held_seats(inventory, best(2)) == ("101-A-1", "101-A-2")
    assert held_seats(inventory, best(1, hold_id="hold-2")) == ("101-A-6",)
    rejected(inventory, best(1, hold_id="hold-3"), Reason.SOLD_OUT)
    rejected(inventory, best(1, hold_id="hold-3", contiguous=False), Reason.SOLD_OUT)


def test_an_accessible_request_gets_the_marked_seats_first() -> None:
    inventory = marked_inventory()
    assert held_seats(inventory, best(2, accessible=True)) == ("101-A-3", "101-A-4")
    assert held_seats(inventory, best(1, accessible=True, hold_id="hold-2")) == ("101-A-5",)
    assert held_seats(inventory, best(2, accessible=True, hold_id="hold-3")) == (
        "101-A-1",
        "101-A-2",
    )


def test_a_named_seat_hold_may_take_a_marked_seat() -> None:
    inventory = marked_inventory()
    accepted(inventory, HoldSeats(new_hold_id="hold-1", fan_id="fan-1", seats=("101-A-3",)))
    assert held_seats(inventory, best(1, accessible=True, hold_id="hold-2")) == ("101-A-4",)


@pytest.mark.parametrize("now_ms", [RELEASE_AT_MS, RELEASE_AT_MS + 1])
def test_marked_seats_sell_as_ordinary_seats_from_their_release(now_ms: int) -> None:
    inventory = marked_inventory()
    assert held_seats(inventory, best(6), now_ms) == tuple(f"101-A-{n}" for n in range(1, 7))


def test_marked_seats_are_kept_just_before_their_release_and_without_one() -> None:
    for release_at_ms in (RELEASE_AT_MS, None):
        inventory = marked_inventory(release_at_ms)
        rejected(inventory, best(4), Reason.SOLD_OUT, now_ms=RELEASE_AT_MS - 1)


def test_the_release_moment_changes_with_the_sale_settings_and_survives_a_rebuild() -> None:
    inventory = marked_inventory(None)
    accepted(inventory, ChangeSaleSettings(accessible_release_at_ms=NOW_MS - 1))
    assert inventory.configuration.accessible_release_at_ms == NOW_MS - 1
    assert Inventory.rebuild(inventory.rows()) == inventory
    assert held_seats(inventory, best(6)) == tuple(f"101-A-{n}" for n in range(1, 7))


@pytest.mark.parametrize(
    ("accessible", "companion"),
    [((7,), ()), ((0,), ()), ((), (9,)), ((1, 1), ()), ((2,), (2,))],
)
def test_marked_seats_must_be_seats_of_their_row_once(
    accessible: tuple[int, ...], companion: tuple[int, ...]
) -> None:
    row = RowLayout(row_id="A", seats=6, accessible=accessible, companion=companion)
    section = SectionLayout(section_id="101", ticket_type_id="RES", rows=(row,))
    problem = validate_configuration(build_configuration(sections=(section,)))
    assert problem is not None and problem.reason is Reason.VALIDATION_ERROR
