"""The wait list in the engine: joining and leaving, and the offer rule — stock that comes back
goes to the waiting entries first, in join order, inside the decision that returned it."""

import msgspec
import pytest

from engine import limits
from engine.changes import Change, WaitListOffered, WaitListOffersExpired
from engine.commands import (
    ChangeSaleSettings,
    ConvertHold,
    ExpireHolds,
    HoldBestAvailable,
    JoinWaitList,
    LeaveWaitList,
    PauseSale,
    RefundOrder,
    ReleaseHold,
    ResumeSale,
)
from engine.inventory.apply import apply
from engine.inventory.decide import decide
from engine.inventory.decision import Decision
from engine.inventory.rows import InventoryRows
from engine.inventory.state import Inventory
from engine.inventory.wait_list import WAIT_LIST_TRANSITIONS, WaitListStatus, offer_hold_id
from engine.outcomes import WaitListEntryView
from engine.rejections import Reason
from tests.engine.inventory_builders import (
    HOLD_TTL_MS,
    NOW_MS,
    accepted,
    build_configuration,
    general_hold,
    rejected,
    single_row_inventory,
)

OFFER_TTL_MS = 120_000
ROWS_DECODER = msgspec.json.Decoder(InventoryRows)


def sold_out_inventory(capacity: int = 4, **options: object) -> Inventory:
    """An event with the wait list on, whose general admission `fan-1` holds whole."""
    configuration = msgspec.structs.replace(
        build_configuration(general_capacity=capacity, **options),  # type: ignore[arg-type]
        wait_list_enabled=True,
        offer_ttl_ms=OFFER_TTL_MS,
    )
    inventory = Inventory(configuration)
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1", quantity=capacity))
    return inventory


def join(
    entry_id: str, fan_id: str, quantity: int = 2, ticket_type_id: str | None = "GA"
) -> JoinWaitList:
    return JoinWaitList(
        new_entry_id=entry_id,
        fan_id=fan_id,
        quantity=quantity,
        ticket_type_id=ticket_type_id,
        email=f"{fan_id}@example.com",
    )


def status_of(inventory: Inventory, entry_id: str) -> WaitListStatus:
    return inventory.wait_list.entries[entry_id].status


def assert_rebuilds(inventory: Inventory) -> None:
    rebuilt = Inventory.rebuild(ROWS_DECODER.decode(msgspec.json.encode(inventory.rows())))
    rebuilt.assert_consistent()
    assert rebuilt == inventory


def test_join_waits_with_its_position_when_nothing_is_available() -> None:
    inventory = sold_out_inventory()
    first = accepted(inventory, join("entry-1", "fan-2")).outcome
    second = accepted(inventory, join("entry-2", "fan-3")).outcome
    assert isinstance(first, WaitListEntryView) and isinstance(second, WaitListEntryView)
    assert (first.status, first.position) == (WaitListStatus.WAITING, 0)
    assert (second.status, second.position) == (WaitListStatus.WAITING, 1)
    assert_rebuilds(inventory)


def test_join_answers_the_same_entry_when_the_fan_joins_again() -> None:
    inventory = sold_out_inventory()
    accepted(inventory, join("entry-1", "fan-2"))
    again = accepted(inventory, join("entry-9", "fan-2", quantity=1))
    assert again.changes == ()
    assert isinstance(again.outcome, WaitListEntryView)
    assert (again.outcome.entry_id, again.outcome.quantity) == ("entry-1", 2)


def test_join_is_refused_when_the_wait_list_is_off_or_the_body_is_wrong() -> None:
    inventory = sold_out_inventory()
    accepted(inventory, ChangeSaleSettings(wait_list_enabled=False))
    rejected(inventory, join("entry-1", "fan-2"), Reason.WAIT_LIST_CLOSED)
    accepted(inventory, ChangeSaleSettings(wait_list_enabled=True))
    rejected(inventory, join("entry-1", "fan-2", quantity=0), Reason.VALIDATION_ERROR)
    too_many = limits.WAIT_LIST_QUANTITY_MAX + 1
    rejected(inventory, join("entry-1", "fan-2", quantity=too_many), Reason.VALIDATION_ERROR)
    rejected(inventory, join("entry-1", "fan-2", ticket_type_id="NOPE"), Reason.VALIDATION_ERROR)


def test_released_stock_goes_to_the_first_entry_in_the_same_decision() -> None:
    inventory = sold_out_inventory()
    accepted(inventory, join("entry-1", "fan-2"))
    accepted(inventory, join("entry-2", "fan-3"))
    decision = accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    offers = [change for change in decision.changes if isinstance(change, WaitListOffered)]
    assert [offer.entry_id for offer in offers] == ["entry-1", "entry-2"]
    hold = inventory.holds[offer_hold_id("entry-1")]
    assert (hold.fan_id, hold.quantity, hold.expires_at_ms) == ("fan-2", 2, NOW_MS + OFFER_TTL_MS)
    assert inventory.counts["GA"].available == 0
    rejected(inventory, general_hold(hold_id="hold-2", fan_id="fan-4", quantity=1), Reason.SOLD_OUT)
    assert_rebuilds(inventory)


def test_a_later_hold_takes_returned_stock_when_the_offer_is_not_in_the_same_decision() -> None:
    """The race the rule closes: decided apart from the release, the offer comes too late."""
    inventory = sold_out_inventory()
    accepted(inventory, join("entry-1", "fan-2"))
    for change in decide_only(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1")):
        apply(inventory, change)
    accepted(inventory, general_hold(hold_id="hold-2", fan_id="fan-4", quantity=4))
    assert status_of(inventory, "entry-1") is WaitListStatus.WAITING

    guarded = sold_out_inventory()
    accepted(guarded, join("entry-1", "fan-2"))
    accepted(guarded, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    rejected(guarded, general_hold(hold_id="hold-2", fan_id="fan-4", quantity=4), Reason.SOLD_OUT)
    assert status_of(guarded, "entry-1") is WaitListStatus.OFFERED


def decide_only(inventory: Inventory, command: ReleaseHold) -> tuple[Change, ...]:
    decision = decide(inventory, command, NOW_MS)
    assert isinstance(decision, Decision), decision
    return decision.changes


def test_an_entry_that_does_not_fit_keeps_waiting_and_the_next_is_offered() -> None:
    inventory = sold_out_inventory(capacity=3)
    accepted(inventory, join("entry-1", "fan-2", quantity=4))
    accepted(inventory, join("entry-2", "fan-3", quantity=3))
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    assert status_of(inventory, "entry-1") is WaitListStatus.WAITING
    assert status_of(inventory, "entry-2") is WaitListStatus.OFFERED


def test_an_expired_offer_passes_to_the_next_entry_in_the_same_decision() -> None:
    inventory = sold_out_inventory(capacity=2)
    accepted(inventory, join("entry-1", "fan-2"))
    accepted(inventory, join("entry-2", "fan-3"))
    accepted(inventory, ExpireHolds(), now_ms=NOW_MS + HOLD_TTL_MS)
    assert status_of(inventory, "entry-1") is WaitListStatus.OFFERED
    later_ms = NOW_MS + HOLD_TTL_MS + OFFER_TTL_MS
    decision = accepted(inventory, ExpireHolds(), now_ms=later_ms)
    assert WaitListOffersExpired(entry_ids=("entry-1",)) in decision.changes
    assert status_of(inventory, "entry-1") is WaitListStatus.EXPIRED
    assert status_of(inventory, "entry-2") is WaitListStatus.OFFERED
    assert inventory.holds[offer_hold_id("entry-2")].expires_at_ms == later_ms + OFFER_TTL_MS
    assert_rebuilds(inventory)


def test_a_bought_offer_converts_and_a_refund_is_offered_on() -> None:
    inventory = sold_out_inventory(capacity=2)
    accepted(inventory, join("entry-1", "fan-2"))
    accepted(inventory, join("entry-2", "fan-3"))
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    accepted(inventory, ConvertHold(hold_id=offer_hold_id("entry-1"), new_order_id="order-1"))
    assert status_of(inventory, "entry-1") is WaitListStatus.CONVERTED
    accepted(inventory, RefundOrder(order_id="order-1"))
    assert status_of(inventory, "entry-2") is WaitListStatus.OFFERED
    assert_rebuilds(inventory)


def test_leaving_an_offer_releases_its_hold_to_the_next_entry() -> None:
    inventory = sold_out_inventory(capacity=2)
    accepted(inventory, join("entry-1", "fan-2"))
    accepted(inventory, join("entry-2", "fan-3"))
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    rejected(inventory, LeaveWaitList(entry_id="entry-1", fan_id="fan-3"), Reason.NOT_FOUND)
    accepted(inventory, LeaveWaitList(entry_id="entry-1", fan_id="fan-2"))
    assert status_of(inventory, "entry-1") is WaitListStatus.LEFT
    assert status_of(inventory, "entry-2") is WaitListStatus.OFFERED
    assert accepted(inventory, LeaveWaitList(entry_id="entry-1", fan_id="fan-2")).changes == ()


def test_a_released_offer_ends_expired_and_passes_on() -> None:
    inventory = sold_out_inventory(capacity=2)
    accepted(inventory, join("entry-1", "fan-2"))
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    accepted(inventory, join("entry-2", "fan-3"))
    accepted(inventory, ReleaseHold(hold_id=offer_hold_id("entry-1"), fan_id="fan-2"))
    assert status_of(inventory, "entry-1") is WaitListStatus.EXPIRED
    assert status_of(inventory, "entry-2") is WaitListStatus.OFFERED


def test_a_join_is_offered_at_once_when_stock_is_available() -> None:
    inventory = sold_out_inventory(capacity=4)
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    outcome = accepted(inventory, join("entry-1", "fan-2")).outcome
    assert isinstance(outcome, WaitListEntryView)
    assert (outcome.status, outcome.position) == (WaitListStatus.OFFERED, None)
    assert outcome.hold_id == offer_hold_id("entry-1")


def test_an_entry_without_a_type_takes_the_first_type_with_enough() -> None:
    inventory = sold_out_inventory(capacity=2)
    accepted(
        inventory,
        HoldBestAvailable(new_hold_id="hold-2", fan_id="fan-1", ticket_type_id="RES", quantity=2),
    )
    accepted(inventory, join("entry-1", "fan-2", quantity=3, ticket_type_id=None))
    seated = inventory.holds[offer_hold_id("entry-1")]
    assert seated.items[0].ticket_type_id == "RES" and len(seated.seats) == 3


def test_seats_are_offered_best_available_not_necessarily_side_by_side() -> None:
    configuration = msgspec.structs.replace(
        single_row_inventory(4).configuration, wait_list_enabled=True
    )
    inventory = Inventory(configuration)
    accepted(
        inventory,
        HoldBestAvailable(new_hold_id="hold-1", fan_id="fan-1", ticket_type_id="RES", quantity=4),
    )
    accepted(inventory, join("entry-1", "fan-2", quantity=2, ticket_type_id="RES"))
    hold = inventory.holds["hold-1"]
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    offered = inventory.holds[offer_hold_id("entry-1")]
    assert set(offered.seats) <= set(hold.seats) and len(offered.seats) == 2
    assert_rebuilds(inventory)


def test_no_offer_is_made_while_the_sale_is_paused_until_it_resumes() -> None:
    inventory = sold_out_inventory(capacity=2)
    accepted(inventory, join("entry-1", "fan-2"))
    accepted(inventory, PauseSale())
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    assert status_of(inventory, "entry-1") is WaitListStatus.WAITING
    accepted(inventory, ResumeSale())
    assert status_of(inventory, "entry-1") is WaitListStatus.OFFERED


def test_the_per_fan_limit_skips_an_entry_that_would_pass_it() -> None:
    inventory = sold_out_inventory(capacity=4)
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    accepted(inventory, general_hold(hold_id="hold-2", fan_id="fan-1", quantity=2))
    accepted(inventory, general_hold(hold_id="hold-3", fan_id="fan-3", quantity=2))
    accepted(inventory, ChangeSaleSettings(max_tickets_per_user=3))
    accepted(inventory, join("entry-1", "fan-1", quantity=2))
    accepted(inventory, join("entry-2", "fan-2", quantity=2))
    accepted(inventory, ReleaseHold(hold_id="hold-3", fan_id="fan-3"))
    assert status_of(inventory, "entry-1") is WaitListStatus.WAITING
    assert status_of(inventory, "entry-2") is WaitListStatus.OFFERED


@pytest.mark.parametrize("status", list(WaitListStatus))
def test_every_status_has_its_moves_and_ended_ones_have_none(status: WaitListStatus) -> None:
    ended = {WaitListStatus.CONVERTED, WaitListStatus.EXPIRED, WaitListStatus.LEFT}
    assert (WAIT_LIST_TRANSITIONS[status] == frozenset()) == (status in ended)


def test_offer_hold_ids_keep_the_entry_ids_event_number_and_differ_per_entry() -> None:
    entry_id = "00000000-3039-8d3d-a10b-6ad9eacf61b7"
    hold_id = offer_hold_id(entry_id)
    assert hold_id[:13] == entry_id[:13] and hold_id[14] == "8"
    assert hold_id != offer_hold_id("00000000-3039-8d3d-a10b-6ad9eacf61b8")
    assert offer_hold_id(entry_id) == hold_id


def test_a_hidden_type_is_never_joined_for_nor_offered_from_the_list() -> None:
    configuration = build_configuration(general_capacity=2, max_tickets_per_user=None)
    hidden_ga = msgspec.structs.replace(configuration.ticket_types[0], hidden=True)
    inventory = Inventory(
        msgspec.structs.replace(
            configuration,
            ticket_types=(hidden_ga, *configuration.ticket_types[1:]),
            wait_list_enabled=True,
            offer_ttl_ms=OFFER_TTL_MS,
        )
    )
    seats = HoldBestAvailable(
        new_hold_id="hold-1", fan_id="fan-1", ticket_type_id="RES", quantity=30, contiguous=False
    )
    accepted(inventory, seats)
    accepted(inventory, join("entry-1", "fan-2", quantity=1, ticket_type_id=None))

    rejected(
        inventory,
        join("entry-2", "fan-3", quantity=1, ticket_type_id="GA"),
        Reason.VALIDATION_ERROR,
    )
    released = accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))

    offer = next(change for change in released.changes if isinstance(change, WaitListOffered))
    assert [item.ticket_type_id for item in inventory.holds[offer.hold_id].items] == ["RES"]
    assert inventory.counts["GA"].available == 2
