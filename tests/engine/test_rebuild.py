"""An inventory rebuilt from its rows, after a JSON round trip as persistence would do, equals the
original; rows that contradict each other are a bug and stop the rebuild."""

import msgspec
import pytest

from engine.commands import (
    BlockSeats,
    ConvertHold,
    ExtendHold,
    HoldBestAvailable,
    HoldSeats,
    IssueComps,
    PauseSale,
    ResumeSale,
    Withholding,
    WithholdUnits,
)
from engine.inventory.rows import InventoryRows, SeatRow
from engine.inventory.state import Inventory
from engine.seat_map import SeatState
from tests.engine.inventory_builders import accepted, build_inventory, general_hold


def busy_inventory() -> Inventory:
    inventory = build_inventory()
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1", idempotency_key="key-1"))
    accepted(
        inventory, HoldSeats(new_hold_id="hold-2", fan_id="fan-2", seats=("101-A-5", "101-A-6"))
    )
    accepted(
        inventory,
        HoldBestAvailable(new_hold_id="hold-3", fan_id="fan-3", ticket_type_id="RES", quantity=3),
    )
    accepted(inventory, ExtendHold(hold_id="hold-3", fan_id="fan-3"))
    accepted(inventory, ConvertHold(hold_id="hold-2", new_order_id="order-1"))
    accepted(inventory, BlockSeats(seats=("102-A-1", "102-A-2"), withholding=Withholding.PRESS))
    accepted(inventory, BlockSeats(seats=("102-A-8",), withholding=Withholding.KILL))
    accepted(
        inventory,
        IssueComps(
            new_order_id="order-2", fan_id="fan-9", allocation=Withholding.PRESS, seats=("102-A-1",)
        ),
    )
    accepted(
        inventory, WithholdUnits(ticket_type_id="GA", quantity=7, withholding=Withholding.ARTISTS)
    )
    accepted(inventory, PauseSale())
    return inventory


def round_trip(rows: InventoryRows) -> InventoryRows:
    return msgspec.json.decode(msgspec.json.encode(rows), type=InventoryRows)


def test_rebuilt_inventory_equals_the_original_when_read_back_from_its_rows() -> None:
    inventory = busy_inventory()
    rebuilt = Inventory.rebuild(round_trip(inventory.rows()))
    rebuilt.assert_consistent()
    assert rebuilt == inventory
    assert rebuilt.rows() == inventory.rows()


def test_rebuilt_inventory_differs_when_the_original_moved_on() -> None:
    inventory = busy_inventory()
    rebuilt = Inventory.rebuild(inventory.rows())
    assert rebuilt == inventory
    accepted(inventory, ResumeSale())
    assert rebuilt != inventory


def test_rebuild_stops_when_a_seat_row_contradicts_the_holds() -> None:
    rows = busy_inventory().rows()
    held_seat = next(seat for seat in rows.seats if seat.state is SeatState.HELD)
    seats = tuple(
        SeatRow(seat_id=seat.seat_id, state=SeatState.SOLD) if seat == held_seat else seat
        for seat in rows.seats
    )
    with pytest.raises(AssertionError):
        Inventory.rebuild(msgspec.structs.replace(rows, seats=seats))


def test_rebuild_stops_when_a_hold_claims_a_sold_seat() -> None:
    rows = busy_inventory().rows()
    sold_seat = rows.sales[0].seats[0]
    hold = msgspec.structs.replace(rows.holds[1], seats=(sold_seat,))
    with pytest.raises(AssertionError):
        Inventory.rebuild(msgspec.structs.replace(rows, holds=(rows.holds[0], hold)))
