"""Fans' commands: holding general quantities, named seats and best seats; release, expiry,
extension for checkout and conversion to a sale, with every rejection each can return."""

import pytest

from engine import limits
from engine.changes import HoldConverted, HoldExtended, HoldPlaced, HoldReleased, HoldsExpired
from engine.commands import (
    ConvertHold,
    ExpireHolds,
    ExtendHold,
    HoldBestAvailable,
    HoldSeats,
    ItemRequest,
    PauseSale,
    PlaceHold,
    ReleaseHold,
    ResumeSale,
)
from engine.outcomes import ExpiryReport, HoldView, SaleView
from engine.pricing import price_order
from engine.rejections import Reason
from engine.seat_map import SeatState
from tests.engine.inventory_builders import (
    CLOSES_AT_MS,
    GENERAL_PRICE_CENTS,
    HOLD_TTL_MS,
    NOW_MS,
    OPENS_AT_MS,
    SEATED_PRICE_CENTS,
    accepted,
    build_inventory,
    general_hold,
    rejected,
)


def seats_hold(seats: tuple[str, ...], hold_id: str = "hold-1", fan_id: str = "fan-1") -> HoldSeats:
    return HoldSeats(new_hold_id=hold_id, fan_id=fan_id, seats=seats)


def best_hold(
    quantity: int, hold_id: str = "hold-1", fan_id: str = "fan-1", **options: object
) -> HoldBestAvailable:
    return HoldBestAvailable(
        new_hold_id=hold_id,
        fan_id=fan_id,
        ticket_type_id=str(options.pop("ticket_type_id", "RES")),
        quantity=quantity,
        **options,  # type: ignore[arg-type]
    )


def test_general_hold_takes_quantity_and_prices_it_when_enough_is_available() -> None:
    inventory = build_inventory()
    decision = accepted(inventory, general_hold(quantity=3))
    assert decision.outcome == HoldView(
        hold_id="hold-1",
        fan_id="fan-1",
        items=decision.outcome.items,  # type: ignore[union-attr]
        seats=(),
        expires_at_ms=NOW_MS + HOLD_TTL_MS,
        subtotal_cents=3 * GENERAL_PRICE_CENTS,
    )
    assert isinstance(decision.changes[0], HoldPlaced)
    counts = inventory.ticket_type_counts("GA")
    assert (counts.available, counts.held, counts.sold) == (97, 3, 0)
    assert inventory.tickets_of_fan("fan-1") == 3


def test_general_hold_is_sold_out_when_fewer_remain_than_asked() -> None:
    inventory = build_inventory(general_capacity=5)
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1", quantity=4))
    result = rejected(inventory, general_hold(hold_id="hold-2", fan_id="fan-2"), Reason.SOLD_OUT)
    assert result.details == {"ticket_type_ids": ["GA"]}


@pytest.mark.parametrize(
    "items",
    [
        (),
        (ItemRequest(ticket_type_id="GA", quantity=0),),
        (ItemRequest(ticket_type_id="NOPE", quantity=1),),
        (ItemRequest(ticket_type_id="RES", quantity=1),),
        (
            ItemRequest(ticket_type_id="GA", quantity=1),
            ItemRequest(ticket_type_id="GA", quantity=1),
        ),
        (ItemRequest(ticket_type_id="GA", quantity=limits.UNITS_PER_GENERAL_HOLD_MAX + 1),),
        tuple(
            ItemRequest(ticket_type_id="GA", quantity=1)
            for _ in range(limits.ITEMS_PER_HOLD_MAX + 1)
        ),
    ],
    ids=["empty", "zero", "unknown-type", "seated-type", "duplicate", "too-many", "too-many-items"],
)
def test_general_hold_is_a_validation_error_when_items_are_bad(
    items: tuple[ItemRequest, ...],
) -> None:
    inventory = build_inventory(max_tickets_per_user=limits.TICKETS_PER_USER_MAX)
    command = PlaceHold(new_hold_id="hold-1", fan_id="fan-1", items=items)
    rejected(inventory, command, Reason.VALIDATION_ERROR)


def test_hold_is_a_validation_error_when_its_id_is_already_live() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(hold_id="hold-1"))
    rejected(inventory, general_hold(hold_id="hold-1", fan_id="fan-2"), Reason.VALIDATION_ERROR)


@pytest.mark.parametrize("now_ms", [OPENS_AT_MS - 1, CLOSES_AT_MS, CLOSES_AT_MS + 1])
def test_every_hold_kind_is_refused_when_outside_the_sale_window(now_ms: int) -> None:
    inventory = build_inventory()
    rejected(inventory, general_hold(), Reason.SALE_NOT_OPEN, now_ms)
    rejected(inventory, seats_hold(("101-A-1",)), Reason.SALE_NOT_OPEN, now_ms)
    rejected(inventory, best_hold(2), Reason.SALE_NOT_OPEN, now_ms)


def test_holds_are_refused_when_paused_and_accepted_when_resumed() -> None:
    inventory = build_inventory()
    accepted(inventory, PauseSale())
    rejected(inventory, general_hold(), Reason.SALE_NOT_OPEN)
    rejected(inventory, seats_hold(("101-A-1",)), Reason.SALE_NOT_OPEN)
    rejected(inventory, best_hold(2), Reason.SALE_NOT_OPEN)
    accepted(inventory, ResumeSale())
    accepted(inventory, general_hold())


def test_limit_is_exceeded_when_live_holds_and_sales_together_pass_it() -> None:
    inventory = build_inventory(max_tickets_per_user=4)
    accepted(inventory, general_hold(hold_id="hold-1", quantity=2))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    accepted(inventory, seats_hold(("101-A-1",), hold_id="hold-2"))
    result = rejected(inventory, best_hold(2, hold_id="hold-3"), Reason.LIMIT_EXCEEDED)
    assert result.details == {"limit": 4, "already": 3}
    rejected(inventory, general_hold(hold_id="hold-3", quantity=2), Reason.LIMIT_EXCEEDED)
    rejected(inventory, seats_hold(("101-A-2", "101-A-3"), hold_id="hold-3"), Reason.LIMIT_EXCEEDED)
    accepted(inventory, general_hold(hold_id="hold-3", quantity=1))
    accepted(inventory, general_hold(hold_id="hold-4", fan_id="fan-2", quantity=4))


def test_limit_frees_up_when_a_hold_is_released() -> None:
    inventory = build_inventory(max_tickets_per_user=2)
    accepted(inventory, general_hold(hold_id="hold-1", quantity=2))
    rejected(inventory, general_hold(hold_id="hold-2", quantity=1), Reason.LIMIT_EXCEEDED)
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    accepted(inventory, general_hold(hold_id="hold-2", quantity=2))


def test_named_seats_are_held_in_seat_order_when_all_are_available() -> None:
    inventory = build_inventory()
    decision = accepted(inventory, seats_hold(("101-B-2", "101-A-7", "101-A-8")))
    outcome = decision.outcome
    assert isinstance(outcome, HoldView)
    assert outcome.seats == ("101-A-7", "101-A-8", "101-B-2")
    assert outcome.subtotal_cents == 3 * SEATED_PRICE_CENTS
    assert inventory.seat_state("101-A-7") is SeatState.HELD
    assert inventory.ticket_type_counts("RES").held == 3


def test_no_named_seat_is_held_when_any_is_unavailable_and_those_are_listed() -> None:
    inventory = build_inventory()
    accepted(inventory, seats_hold(("101-A-7",), hold_id="hold-1", fan_id="fan-1"))
    accepted(inventory, seats_hold(("101-A-9",), hold_id="hold-2", fan_id="fan-2"))
    accepted(inventory, ConvertHold(hold_id="hold-2", new_order_id="order-1"))
    result = rejected(
        inventory,
        seats_hold(("101-A-8", "101-A-9", "101-A-7"), hold_id="hold-3", fan_id="fan-3"),
        Reason.SEAT_UNAVAILABLE,
    )
    assert result.details == {"seats": ["101-A-7", "101-A-9"]}
    assert inventory.seat_state("101-A-8") is SeatState.AVAILABLE


@pytest.mark.parametrize(
    "seats",
    [(), ("101-A-1", "101-A-1"), ("101-A-11",), ("101-Z-1",), ("101-A-0",), ("101-A-01",), ("A1",)],
    ids=["none", "duplicate", "past-row-end", "unknown-row", "zero", "leading-zero", "shape"],
)
def test_named_seats_are_a_validation_error_when_a_seat_does_not_exist(
    seats: tuple[str, ...],
) -> None:
    rejected(build_inventory(), seats_hold(seats), Reason.VALIDATION_ERROR)


def test_named_seats_are_a_validation_error_when_more_than_the_hold_maximum() -> None:
    inventory = build_inventory()
    seats = tuple(f"101-B-{number}" for number in range(1, 13)) * 5
    rejected(inventory, seats_hold(seats[: limits.SEATS_PER_HOLD_MAX + 1]), Reason.VALIDATION_ERROR)


def test_best_available_takes_the_centre_of_the_best_row_when_it_is_empty() -> None:
    inventory = build_inventory()
    outcome = accepted(inventory, best_hold(4)).outcome
    assert isinstance(outcome, HoldView)
    assert outcome.seats == ("101-A-4", "101-A-5", "101-A-6", "101-A-7")


def test_best_available_keeps_to_a_section_when_one_is_requested() -> None:
    inventory = build_inventory()
    outcome = accepted(inventory, best_hold(2, section="102")).outcome
    assert isinstance(outcome, HoldView)
    assert outcome.seats == ("102-A-4", "102-A-5")


def test_best_available_moves_to_the_next_row_when_the_best_row_is_full() -> None:
    inventory = build_inventory(max_tickets_per_user=10)
    accepted(inventory, best_hold(10, hold_id="hold-1", fan_id="fan-1", section="101"))
    outcome = accepted(inventory, best_hold(2, hold_id="hold-2", fan_id="fan-2")).outcome
    assert isinstance(outcome, HoldView)
    assert outcome.seats == ("101-B-6", "101-B-7")


def test_best_available_is_sold_out_when_no_row_has_enough_side_by_side() -> None:
    inventory = build_inventory(max_tickets_per_user=limits.TICKETS_PER_USER_MAX)
    rejected(inventory, best_hold(13), Reason.SOLD_OUT)


def test_best_available_scatters_seats_when_contiguity_is_not_required() -> None:
    inventory = build_inventory(max_tickets_per_user=limits.TICKETS_PER_USER_MAX)
    outcome = accepted(inventory, best_hold(13, contiguous=False)).outcome
    assert isinstance(outcome, HoldView)
    assert len(outcome.seats) == 13
    assert sum(seat.startswith("101-A-") for seat in outcome.seats) == 10


@pytest.mark.parametrize(
    "options",
    [
        {"ticket_type_id": "GA"},
        {"ticket_type_id": "NOPE"},
        {"section": "999"},
        {"quantity": 0},
        {"quantity": limits.SEATS_PER_HOLD_MAX + 1},
    ],
    ids=["general-type", "unknown-type", "unknown-section", "zero", "too-many"],
)
def test_best_available_is_a_validation_error_when_the_request_is_bad(
    options: dict[str, object],
) -> None:
    quantity = int(options.pop("quantity", 2))  # type: ignore[call-overload]
    rejected(build_inventory(), best_hold(quantity, **options), Reason.VALIDATION_ERROR)


def test_inventory_is_available_again_at_once_when_a_hold_is_released() -> None:
    inventory = build_inventory()
    accepted(inventory, seats_hold(("101-A-1", "101-A-2")))
    decision = accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    assert decision.changes == (HoldReleased(hold_id="hold-1"),)
    assert inventory.seat_state("101-A-1") is SeatState.AVAILABLE
    assert inventory.ticket_type_counts("RES").held == 0
    assert inventory.tickets_of_fan("fan-1") == 0


def test_release_is_not_found_when_the_hold_is_another_fans_or_unknown() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold())
    rejected(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-2"), Reason.NOT_FOUND)
    rejected(inventory, ReleaseHold(hold_id="hold-9", fan_id="fan-1"), Reason.NOT_FOUND)


def test_release_is_hold_expired_when_the_expiry_time_has_passed() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold())
    command = ReleaseHold(hold_id="hold-1", fan_id="fan-1")
    rejected(inventory, command, Reason.HOLD_EXPIRED, NOW_MS + HOLD_TTL_MS)


def test_expire_returns_exactly_the_due_holds_when_some_are_due() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1"), NOW_MS)
    accepted(inventory, seats_hold(("101-A-1",), hold_id="hold-2", fan_id="fan-2"), NOW_MS + 10)
    accepted(inventory, general_hold(hold_id="hold-3", fan_id="fan-3"), NOW_MS + 20)
    decision = accepted(inventory, ExpireHolds(), NOW_MS + HOLD_TTL_MS + 10)
    assert decision.changes == (HoldsExpired(hold_ids=("hold-1", "hold-2")),)
    assert decision.outcome == ExpiryReport(
        expired_hold_ids=("hold-1", "hold-2"), forgotten_idempotency_keys=()
    )
    assert set(inventory.holds) == {"hold-3"}
    assert inventory.seat_state("101-A-1") is SeatState.AVAILABLE
    assert inventory.ticket_type_counts("GA").held == 2


def test_expire_changes_nothing_when_no_hold_is_due() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold())
    decision = accepted(inventory, ExpireHolds(), NOW_MS + HOLD_TTL_MS - 1)
    assert decision.changes == ()


def test_expire_returns_the_per_command_maximum_when_more_are_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "HOLDS_EXPIRED_PER_COMMAND_MAX", 2)
    inventory = build_inventory()
    for number in range(3):
        accepted(inventory, general_hold(hold_id=f"hold-{number}", fan_id=f"fan-{number}"))
    first = accepted(inventory, ExpireHolds(), NOW_MS + HOLD_TTL_MS)
    assert first.changes == (HoldsExpired(hold_ids=("hold-0", "hold-1")),)
    second = accepted(inventory, ExpireHolds(), NOW_MS + HOLD_TTL_MS)
    assert second.changes == (HoldsExpired(hold_ids=("hold-2",)),)


def test_hold_lasts_through_the_checkout_window_when_extended_once() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold())
    later_ms = NOW_MS + 30_000
    decision = accepted(inventory, ExtendHold(hold_id="hold-1", fan_id="fan-1"), later_ms)
    window_end_ms = later_ms + limits.CHECKOUT_WINDOW_MS
    assert decision.changes == (HoldExtended(hold_id="hold-1", expires_at_ms=window_end_ms),)
    assert inventory.holds["hold-1"].expires_at_ms == window_end_ms
    again = accepted(inventory, ExtendHold(hold_id="hold-1", fan_id="fan-1"), later_ms + 60_000)
    assert again.changes == ()
    assert isinstance(again.outcome, HoldView)
    assert again.outcome.expires_at_ms == window_end_ms
    expired = accepted(inventory, ExpireHolds(), NOW_MS + HOLD_TTL_MS)
    assert expired.changes == ()


def test_extend_is_refused_when_the_hold_is_another_fans_or_expired() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold())
    rejected(inventory, ExtendHold(hold_id="hold-1", fan_id="fan-2"), Reason.NOT_FOUND)
    rejected(
        inventory,
        ExtendHold(hold_id="hold-1", fan_id="fan-1"),
        Reason.HOLD_EXPIRED,
        NOW_MS + HOLD_TTL_MS,
    )


def test_held_inventory_is_sold_and_priced_when_the_hold_is_converted() -> None:
    inventory = build_inventory()
    accepted(inventory, seats_hold(("101-A-1", "101-A-2")))
    decision = accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    change = decision.changes[0]
    assert isinstance(change, HoldConverted)
    assert change.price == price_order(2 * SEATED_PRICE_CENTS)
    assert isinstance(decision.outcome, SaleView)
    assert decision.outcome.price.total_cents == 16_000 + 1_664
    assert inventory.seat_state("101-A-1") is SeatState.SOLD
    counts = inventory.ticket_type_counts("RES")
    assert (counts.held, counts.sold) == (0, 2)
    assert inventory.tickets_of_fan("fan-1") == 2
    assert "hold-1" not in inventory.holds


def test_convert_is_accepted_when_the_sale_closed_after_the_hold() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(), CLOSES_AT_MS - 1)
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"), CLOSES_AT_MS + 1)


def test_convert_is_refused_when_hold_is_unknown_or_expired_or_order_id_reused() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1"))
    accepted(inventory, general_hold(hold_id="hold-2", fan_id="fan-2"))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    rejected(inventory, ConvertHold(hold_id="hold-9", new_order_id="order-2"), Reason.NOT_FOUND)
    rejected(
        inventory, ConvertHold(hold_id="hold-2", new_order_id="order-1"), Reason.VALIDATION_ERROR
    )
    rejected(
        inventory,
        ConvertHold(hold_id="hold-2", new_order_id="order-2"),
        Reason.HOLD_EXPIRED,
        NOW_MS + HOLD_TTL_MS,
    )
