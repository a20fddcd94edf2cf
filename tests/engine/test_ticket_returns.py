"""A partial refund's return of some of a sale: those seats and units go back on sale, the rest
stays sold, a return asked again is NOT_FOUND (so it happens once), and returning all that is
left is the whole order's refund."""

from engine.changes import OrderRefunded, TicketsReturned
from engine.commands import ConvertHold, HoldSeats, ItemRequest, ReturnTickets
from engine.holds import HoldItem
from engine.inventory.state import Inventory
from engine.rejections import Reason
from engine.seat_map import SeatState
from tests.engine.inventory_builders import accepted, build_inventory, general_hold, rejected


def sold_seats(inventory: Inventory) -> None:
    seats = ("101-A-1", "101-A-2", "101-A-3")
    accepted(inventory, HoldSeats(new_hold_id="hold-1", fan_id="fan-1", seats=seats))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))


def test_one_seat_returns_to_sale_when_its_ticket_is_refunded() -> None:
    inventory = build_inventory()
    sold_seats(inventory)
    decision = accepted(inventory, ReturnTickets(order_id="order-1", seats=("101-A-2",)))
    (change,) = decision.changes
    assert isinstance(change, TicketsReturned) and change.seats == ("101-A-2",)
    assert [(item.ticket_type_id, item.quantity) for item in change.items] == [("RES", 1)]
    assert inventory.seat_state("101-A-2") is SeatState.AVAILABLE
    assert inventory.seat_state("101-A-1") is SeatState.SOLD
    assert inventory.sales["order-1"].seats == ("101-A-1", "101-A-3")
    counts = inventory.ticket_type_counts("RES")
    assert (counts.sold, counts.available) == (2, 28)
    assert inventory.tickets_of_fan("fan-1") == 2


def test_a_return_is_not_found_when_asked_again() -> None:
    inventory = build_inventory()
    sold_seats(inventory)
    accepted(inventory, ReturnTickets(order_id="order-1", seats=("101-A-2",)))
    rejected(inventory, ReturnTickets(order_id="order-1", seats=("101-A-2",)), Reason.NOT_FOUND)


def test_general_units_return_to_sale_when_some_are_refunded() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(quantity=4))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    returned = (ItemRequest(ticket_type_id="GA", quantity=1),)
    accepted(inventory, ReturnTickets(order_id="order-1", items=returned))
    counts = inventory.ticket_type_counts("GA")
    assert (counts.sold, counts.available) == (3, 97)
    too_many = (ItemRequest(ticket_type_id="GA", quantity=4),)
    rejected(inventory, ReturnTickets(order_id="order-1", items=too_many), Reason.NOT_FOUND)


def test_the_whole_order_is_refunded_when_the_last_tickets_return() -> None:
    inventory = build_inventory()
    sold_seats(inventory)
    accepted(inventory, ReturnTickets(order_id="order-1", seats=("101-A-1",)))
    decision = accepted(inventory, ReturnTickets(order_id="order-1", seats=("101-A-2", "101-A-3")))
    assert decision.changes == (OrderRefunded(order_id="order-1"),)
    assert "order-1" not in inventory.sales
    assert inventory.ticket_type_counts("RES").sold == 0


def test_a_return_is_refused_when_it_names_nothing_or_another_order() -> None:
    inventory = build_inventory()
    sold_seats(inventory)
    rejected(inventory, ReturnTickets(order_id="order-1"), Reason.VALIDATION_ERROR)
    rejected(inventory, ReturnTickets(order_id="order-9", seats=("101-A-1",)), Reason.NOT_FOUND)
    rejected(inventory, ReturnTickets(order_id="order-1", seats=("101-B-1",)), Reason.NOT_FOUND)


def test_items_keep_their_price_when_returned() -> None:
    inventory = build_inventory()
    sold_seats(inventory)
    (change,) = accepted(inventory, ReturnTickets(order_id="order-1", seats=("101-A-1",))).changes
    assert isinstance(change, TicketsReturned)
    (sold,) = inventory.sales["order-1"].items
    assert change.items == (
        HoldItem(ticket_type_id="RES", quantity=1, unit_price_cents=sold.unit_price_cents),
    )
