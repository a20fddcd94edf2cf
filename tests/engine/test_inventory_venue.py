"""The venue's commands (refund, cancel, comps, blocks, withheld units, pause) and the event
configuration check, with every rejection each can return."""

import msgspec
import pytest

from engine import limits
from engine.changes import (
    CompsIssued,
    OrderCancelled,
    OrderRefunded,
    SalePaused,
    SaleResumed,
    SeatsBlocked,
)
from engine.commands import (
    BlockSeats,
    CancelOrder,
    ConvertHold,
    HoldSeats,
    IssueComps,
    ItemRequest,
    PauseSale,
    RefundOrder,
    ResumeSale,
    ReturnWithheldUnits,
    UnblockSeats,
    Withholding,
    WithholdUnits,
)
from engine.inventory.configuration import TicketKind, TicketTypeDefinition, validate_configuration
from engine.inventory.state import Inventory
from engine.outcomes import SaleView
from engine.rejections import Reason
from engine.seat_map import RowLayout, SeatState, SectionLayout
from tests.engine.inventory_builders import (
    accepted,
    build_configuration,
    build_inventory,
    general_hold,
    rejected,
)


def sold_order(inventory: Inventory, seats: tuple[str, ...] = ("101-A-1", "101-A-2")) -> None:
    accepted(inventory, HoldSeats(new_hold_id="hold-1", fan_id="fan-1", seats=seats))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))


@pytest.mark.parametrize(
    ("command", "change"),
    [
        (RefundOrder(order_id="order-1"), OrderRefunded(order_id="order-1")),
        (CancelOrder(order_id="order-1"), OrderCancelled(order_id="order-1")),
    ],
)
def test_seats_return_to_sale_when_an_order_is_refunded_or_cancelled(
    command: RefundOrder | CancelOrder, change: OrderRefunded | OrderCancelled
) -> None:
    inventory = build_inventory()
    sold_order(inventory)
    decision = accepted(inventory, command)
    assert decision.changes == (change,)
    assert inventory.seat_state("101-A-1") is SeatState.AVAILABLE
    counts = inventory.ticket_type_counts("RES")
    assert (counts.sold, counts.available) == (0, 30)
    assert inventory.tickets_of_fan("fan-1") == 0


def test_quantities_return_to_sale_when_a_general_order_is_refunded() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(quantity=3))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    accepted(inventory, RefundOrder(order_id="order-1"))
    assert inventory.ticket_type_counts("GA").available == 100


@pytest.mark.parametrize(
    "command", [RefundOrder(order_id="order-9"), CancelOrder(order_id="order-9")]
)
def test_refund_and_cancel_are_not_found_when_the_order_is_unknown(
    command: RefundOrder | CancelOrder,
) -> None:
    inventory = build_inventory()
    sold_order(inventory)
    rejected(inventory, command, Reason.NOT_FOUND)


def test_refund_is_not_found_when_the_order_was_already_refunded() -> None:
    inventory = build_inventory()
    sold_order(inventory)
    accepted(inventory, RefundOrder(order_id="order-1"))
    rejected(inventory, RefundOrder(order_id="order-1"), Reason.NOT_FOUND)


@pytest.mark.parametrize("withholding", list(Withholding))
def test_seats_leave_sale_when_blocked(withholding: Withholding) -> None:
    inventory = build_inventory()
    decision = accepted(
        inventory, BlockSeats(seats=("101-A-2", "101-A-1"), withholding=withholding)
    )
    assert decision.changes == (
        SeatsBlocked(seats=("101-A-1", "101-A-2"), withholding=withholding),
    )
    counts = inventory.ticket_type_counts("RES")
    assert (counts.available, counts.withheld) == (28, 2)
    rejected(
        inventory,
        HoldSeats(new_hold_id="hold-1", fan_id="fan-1", seats=("101-A-1",)),
        Reason.SEAT_UNAVAILABLE,
    )


def test_block_is_seat_unavailable_when_seats_are_held_sold_or_blocked() -> None:
    inventory = build_inventory()
    sold_order(inventory, ("101-A-1",))
    accepted(inventory, HoldSeats(new_hold_id="hold-2", fan_id="fan-2", seats=("101-A-2",)))
    accepted(inventory, BlockSeats(seats=("101-A-3",), withholding=Withholding.KILL))
    result = rejected(
        inventory,
        BlockSeats(
            seats=("101-A-1", "101-A-2", "101-A-3", "101-A-4"), withholding=Withholding.PRESS
        ),
        Reason.SEAT_UNAVAILABLE,
    )
    assert result.details == {"seats": ["101-A-1", "101-A-2", "101-A-3"]}


@pytest.mark.parametrize(
    "seats",
    [(), ("101-Q-1",), ("101-A-1", "101-A-1")],
    ids=["none", "unknown", "duplicate"],
)
def test_block_and_unblock_are_validation_errors_when_seat_lists_are_bad(
    seats: tuple[str, ...],
) -> None:
    inventory = build_inventory()
    rejected(
        inventory, BlockSeats(seats=seats, withholding=Withholding.KILL), Reason.VALIDATION_ERROR
    )
    rejected(inventory, UnblockSeats(seats=seats), Reason.VALIDATION_ERROR)


def test_seats_return_to_sale_when_unblocked() -> None:
    inventory = build_inventory()
    accepted(inventory, BlockSeats(seats=("101-A-1",), withholding=Withholding.KILL))
    accepted(inventory, BlockSeats(seats=("101-A-2",), withholding=Withholding.ARTISTS))
    accepted(inventory, UnblockSeats(seats=("101-A-1", "101-A-2")))
    assert inventory.ticket_type_counts("RES").available == 30


def test_unblock_is_seat_unavailable_when_a_seat_is_not_blocked() -> None:
    inventory = build_inventory()
    accepted(inventory, BlockSeats(seats=("101-A-1",), withholding=Withholding.KILL))
    result = rejected(
        inventory, UnblockSeats(seats=("101-A-1", "101-A-5")), Reason.SEAT_UNAVAILABLE
    )
    assert result.details == {"seats": ["101-A-5"]}


def test_set_aside_seats_are_sold_free_outside_the_limit_when_comps_are_issued() -> None:
    inventory = build_inventory(max_tickets_per_user=1)
    seats = ("101-A-1", "101-A-2")
    accepted(inventory, BlockSeats(seats=seats, withholding=Withholding.PRESS))
    decision = accepted(
        inventory,
        IssueComps(
            new_order_id="order-1", fan_id="fan-1", allocation=Withholding.PRESS, seats=seats
        ),
    )
    assert isinstance(decision.changes[0], CompsIssued)
    assert isinstance(decision.outcome, SaleView)
    assert decision.outcome.complimentary
    assert decision.outcome.price.total_cents == 0
    counts = inventory.ticket_type_counts("RES")
    assert (counts.sold, counts.withheld) == (2, 0)
    assert inventory.tickets_of_fan("fan-1") == 0
    accepted(inventory, general_hold(quantity=1))


def test_withheld_units_are_sold_when_general_comps_are_issued() -> None:
    inventory = build_inventory()
    accepted(
        inventory, WithholdUnits(ticket_type_id="GA", quantity=5, withholding=Withholding.COMPS)
    )
    accepted(
        inventory,
        IssueComps(
            new_order_id="order-1",
            fan_id="fan-1",
            allocation=Withholding.COMPS,
            items=(ItemRequest(ticket_type_id="GA", quantity=3),),
        ),
    )
    counts = inventory.ticket_type_counts("GA")
    assert (counts.available, counts.withheld, counts.sold) == (95, 2, 3)
    accepted(inventory, RefundOrder(order_id="order-1"))
    assert inventory.ticket_type_counts("GA").available == 98


def test_comps_are_refused_when_seats_or_units_are_outside_the_allocation() -> None:
    inventory = build_inventory()
    accepted(inventory, BlockSeats(seats=("101-A-1",), withholding=Withholding.COMPS))
    accepted(inventory, BlockSeats(seats=("101-A-2",), withholding=Withholding.KILL))
    sold_order(inventory, ("101-A-3",))
    comps = IssueComps(
        new_order_id="order-2",
        fan_id="fan-2",
        allocation=Withholding.COMPS,
        seats=("101-A-1", "101-A-2", "101-A-4"),
    )
    result = rejected(inventory, comps, Reason.SEAT_UNAVAILABLE)
    assert result.details == {"seats": ["101-A-2", "101-A-4"]}
    general = IssueComps(
        new_order_id="order-2",
        fan_id="fan-2",
        allocation=Withholding.COMPS,
        items=(ItemRequest(ticket_type_id="GA", quantity=1),),
    )
    rejected(inventory, general, Reason.SOLD_OUT)


@pytest.mark.parametrize(
    "comps",
    [
        IssueComps(
            new_order_id="order-2", fan_id="f", allocation=Withholding.KILL, seats=("101-A-1",)
        ),
        IssueComps(new_order_id="order-2", fan_id="f", allocation=Withholding.COMPS),
        IssueComps(
            new_order_id="order-2",
            fan_id="f",
            allocation=Withholding.COMPS,
            seats=("101-A-1",),
            items=(ItemRequest(ticket_type_id="GA", quantity=1),),
        ),
        IssueComps(
            new_order_id="order-1", fan_id="f", allocation=Withholding.COMPS, seats=("101-A-1",)
        ),
        IssueComps(
            new_order_id="order-2", fan_id="f", allocation=Withholding.COMPS, seats=("9-9-9",)
        ),
        IssueComps(
            new_order_id="order-2",
            fan_id="f",
            allocation=Withholding.COMPS,
            items=(ItemRequest(ticket_type_id="RES", quantity=1),),
        ),
    ],
    ids=["from-kills", "nothing", "both", "order-id-in-use", "unknown-seat", "seated-items"],
)
def test_comps_are_validation_errors_when_the_request_is_bad(comps: IssueComps) -> None:
    inventory = build_inventory()
    sold_order(inventory, ("101-A-5",))
    accepted(inventory, BlockSeats(seats=("101-A-1",), withholding=Withholding.COMPS))
    rejected(inventory, comps, Reason.VALIDATION_ERROR)


def test_units_leave_and_return_to_sale_when_withheld_and_returned() -> None:
    inventory = build_inventory(general_capacity=10)
    accepted(
        inventory, WithholdUnits(ticket_type_id="GA", quantity=4, withholding=Withholding.KILL)
    )
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1", quantity=6))
    rejected(inventory, general_hold(hold_id="hold-2", fan_id="fan-2", quantity=1), Reason.SOLD_OUT)
    accepted(
        inventory,
        ReturnWithheldUnits(ticket_type_id="GA", quantity=4, withholding=Withholding.KILL),
    )
    accepted(inventory, general_hold(hold_id="hold-2", fan_id="fan-2", quantity=4))


def test_withhold_is_sold_out_when_fewer_are_available() -> None:
    inventory = build_inventory(general_capacity=3)
    command = WithholdUnits(ticket_type_id="GA", quantity=4, withholding=Withholding.PRESS)
    rejected(inventory, command, Reason.SOLD_OUT)


@pytest.mark.parametrize(("ticket_type_id", "quantity"), [("RES", 1), ("NOPE", 1), ("GA", 0)])
def test_withhold_and_return_are_validation_errors_when_requests_are_bad(
    ticket_type_id: str, quantity: int
) -> None:
    inventory = build_inventory()
    for command_type in (WithholdUnits, ReturnWithheldUnits):
        command = command_type(
            ticket_type_id=ticket_type_id, quantity=quantity, withholding=Withholding.KILL
        )
        rejected(inventory, command, Reason.VALIDATION_ERROR)


def test_return_is_a_validation_error_when_fewer_are_withheld() -> None:
    inventory = build_inventory()
    accepted(
        inventory, WithholdUnits(ticket_type_id="GA", quantity=2, withholding=Withholding.PRESS)
    )
    command = ReturnWithheldUnits(ticket_type_id="GA", quantity=2, withholding=Withholding.COMPS)
    rejected(inventory, command, Reason.VALIDATION_ERROR)


def test_pause_and_resume_record_a_change_only_when_the_state_changes() -> None:
    inventory = build_inventory()
    assert accepted(inventory, ResumeSale()).changes == ()
    assert accepted(inventory, PauseSale()).changes == (SalePaused(),)
    assert accepted(inventory, PauseSale()).changes == ()
    assert accepted(inventory, ResumeSale()).changes == (SaleResumed(),)


def test_configuration_is_valid_when_built_for_the_tests() -> None:
    assert validate_configuration(build_configuration()) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"closes_at_ms": 0},
        {"hold_ttl_ms": limits.HOLD_TTL_S_MIN * 1000 - 1},
        {"max_tickets_per_user": 0},
        {"ticket_types": ()},
        {
            "ticket_types": (
                TicketTypeDefinition(
                    ticket_type_id="GA", kind=TicketKind.GENERAL, price_cents=1, capacity=0
                ),
            ),
            "sections": (),
        },
        {
            "ticket_types": (
                TicketTypeDefinition(
                    ticket_type_id="GA", kind=TicketKind.GENERAL, price_cents=-1, capacity=1
                ),
            ),
            "sections": (),
        },
        {
            "ticket_types": (
                TicketTypeDefinition(ticket_type_id="RES", kind=TicketKind.SEATED, price_cents=1),
            ),
            "sections": (),
        },
        {
            "sections": (
                SectionLayout(
                    section_id="1-2", ticket_type_id="RES", rows=(RowLayout(row_id="A", seats=1),)
                ),
            )
        },
        {
            "sections": (
                SectionLayout(
                    section_id="1", ticket_type_id="GA", rows=(RowLayout(row_id="A", seats=1),)
                ),
                SectionLayout(
                    section_id="2", ticket_type_id="RES", rows=(RowLayout(row_id="A", seats=1),)
                ),
            )
        },
        {
            "sections": (
                SectionLayout(
                    section_id="1",
                    ticket_type_id="RES",
                    rows=(RowLayout(row_id="A", seats=limits.SEATS_PER_ROW_MAX + 1),),
                ),
            )
        },
        {
            "sections": (
                SectionLayout(
                    section_id="1",
                    ticket_type_id="RES",
                    rows=(RowLayout(row_id="A", seats=1), RowLayout(row_id="A", seats=1)),
                ),
            )
        },
    ],
    ids=[
        "window",
        "ttl",
        "limit",
        "no-types",
        "zero-capacity",
        "negative-price",
        "seated-without-sections",
        "dash-in-section",
        "section-of-general-type",
        "long-row",
        "duplicate-row",
    ],
)
def test_configuration_is_a_validation_error_when_it_breaks_a_rule(
    changes: dict[str, object],
) -> None:
    configuration = msgspec.structs.replace(build_configuration(), **changes)
    result = validate_configuration(configuration)
    assert result is not None
    assert result.reason is Reason.VALIDATION_ERROR
    assert result.details["problems"]
