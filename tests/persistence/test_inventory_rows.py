"""The fold of a batch into rows, without Postgres: each kind of change lands in the rows its
statements expect, changes that undo each other in one batch net out, and for any batch the
engine decides, the folded rows move the stored state exactly as `apply` moved the inventory."""

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.changes import (
    Change,
    CompsIssued,
    HoldConverted,
    HoldExtended,
    HoldPlaced,
    HoldReleased,
    IdempotencyKeyRecorded,
    IdempotencyKeysForgotten,
    OrderRefunded,
    SalePaused,
    SeatsBlocked,
    SeatsUnblocked,
    UnitsWithheld,
)
from engine.commands import Withholding
from engine.holds import Hold, HoldItem, Sale
from engine.inventory.apply import execute
from engine.inventory.configuration import TicketKind
from engine.inventory.decision import Decision
from engine.outcomes import Acknowledged, IdempotencyRecord
from engine.pricing import price_order
from engine.seat_map import SeatState
from engine.simulation import Simulation
from persistence.inventory_batch import (
    ANY_WITHHELD_STATE,
    SEAT_STATE_NAMES,
    WITHHELD_SEAT_STATE_NAMES,
    BatchEffect,
    net_effect,
    referenced_ids,
)
from persistence.inventory_outbox import OUTBOX_ENCODER, InventoryChangeMessage
from persistence.inventory_rows import (
    changed_holds,
    count_deltas,
    ended_sales,
    main_columns,
    new_hold_seats,
    new_sale_items,
    new_sales,
    outbox_rows,
    plan_changes,
    seat_moves,
    withheld_deltas,
)

EVENT_ID = uuid.UUID(int=7)
NOW_MS = 1_000_000
EXPIRES_AT_MS = NOW_MS + 60_000
SEAT_PRICE_CENTS = 8_000
STEPS_PER_BATCH_MAX = 30


def seat_hold(hold_id: str, *seats: str) -> Hold:
    return Hold(
        hold_id=hold_id,
        fan_id="fan-1",
        items=(
            HoldItem(ticket_type_id="RES", quantity=len(seats), unit_price_cents=SEAT_PRICE_CENTS),
        ),
        seats=seats,
        expires_at_ms=EXPIRES_AT_MS,
    )


def sale_of(hold: Hold, order_id: str) -> Sale:
    return Sale(order_id=order_id, fan_id=hold.fan_id, items=hold.items, seats=hold.seats)


def record(key: str) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key, fingerprint=b"f", outcome=Acknowledged(), recorded_at_ms=NOW_MS
    )


def fold(
    changes: list[Change], holds: tuple[Hold, ...] = (), sales: tuple[Sale, ...] = ()
) -> BatchEffect:
    return net_effect(changes, holds, sales, EVENT_ID, NOW_MS)


def test_a_new_hold_becomes_one_hold_row_with_its_items_seats_and_held_count() -> None:
    hold = seat_hold("h1", "101-A-1", "101-A-2")

    effect = fold([HoldPlaced(hold=hold)])

    columns = main_columns(effect)
    assert columns is not None
    hold_ids, fan_ids, statuses, subtotals, expiries, extensions = columns[:6]
    assert (hold_ids, fan_ids, statuses) == (["h1"], ["fan-1"], ["active"])
    assert (subtotals, expiries, extensions) == ([2 * SEAT_PRICE_CENTS], [EXPIRES_AT_MS], [0])
    first_items, item_counts, item_types, quantities, prices = columns[6:11]
    assert (first_items, item_counts) == ([1], [1])
    assert (item_types, quantities, prices) == (["RES"], [2], [SEAT_PRICE_CENTS])
    assert count_deltas(effect) == (["RES"], [2], [0])
    assert new_hold_seats(effect) == (["h1", "h1"], ["101-A-1", "101-A-2"], [0, 1], [True, True])
    assert seat_moves(effect) == (["101-A-1", "101-A-2"], ["available"] * 2, ["held"] * 2)
    assert outbox_rows(effect) == ([], [], [])


def test_a_hold_placed_then_released_in_one_batch_nets_to_no_count_and_no_seat_change() -> None:
    hold = seat_hold("h1", "101-A-1")

    effect = fold([HoldPlaced(hold=hold), HoldReleased(hold_id="h1")])

    columns = main_columns(effect)
    assert columns is not None
    assert columns[2] == ["released"]
    assert count_deltas(effect) == ([], [], [])
    assert new_hold_seats(effect).live == [False]
    assert seat_moves(effect) == (["101-A-1"], ["available"], ["available"])
    assert changed_holds(effect) == ([], [], [], [])


def test_an_existing_hold_extended_is_one_changed_hold_row() -> None:
    hold = seat_hold("h1", "101-A-1")

    effect = fold([HoldExtended(hold_id="h1", expires_at_ms=EXPIRES_AT_MS + 5)], holds=(hold,))

    assert changed_holds(effect) == (["h1"], ["active"], [EXPIRES_AT_MS + 5], [1])
    assert main_columns(effect) is None
    assert seat_moves(effect) == ([], [], [])


def test_a_converted_hold_ends_its_hold_and_sells_its_seats_with_the_price_it_carries() -> None:
    hold = seat_hold("h1", "101-A-1", "101-A-2")
    sale = sale_of(hold, "o1")
    price = price_order(sale.subtotal_cents)
    change = HoldConverted(hold_id="h1", sale=sale, price=price)

    effect = fold([change], holds=(hold,))

    assert changed_holds(effect) == (["h1"], ["converted"], [EXPIRES_AT_MS], [0])
    assert new_sales(effect) == (
        ["o1"],
        ["fan-1"],
        ["h1"],
        [None],
        ["101-A-1 101-A-2"],
        [price.subtotal_cents],
        [price.fees_cents],
        [price.total_cents],
        ["live"],
    )
    assert new_sale_items(effect) == (["o1"], ["RES"], [0], [2], [SEAT_PRICE_CENTS])
    assert count_deltas(effect) == (["RES"], [-2], [2])
    assert seat_moves(effect) == (["101-A-1", "101-A-2"], ["held"] * 2, ["sold"] * 2)
    message = InventoryChangeMessage(event_id=EVENT_ID, recorded_at_ms=NOW_MS, change=change)
    assert outbox_rows(effect) == (
        ["hold.converted"],
        ["h1"],
        [OUTBOX_ENCODER.encode(message).decode()],
    )


def test_a_refunded_sale_ends_live_and_frees_its_seats() -> None:
    sale = sale_of(seat_hold("h1", "101-A-1"), "o1")

    effect = fold([OrderRefunded(order_id="o1")], sales=(sale,))

    assert ended_sales(effect) == (["o1"], ["refunded"])
    assert count_deltas(effect) == (["RES"], [0], [-1])
    assert seat_moves(effect) == (["101-A-1"], ["sold"], ["available"])
    assert outbox_rows(effect).topics == ["order.refunded"]


def test_comps_of_withheld_units_take_from_the_allocation_and_sell_for_nothing() -> None:
    sale = Sale(
        order_id="o1",
        fan_id="guest",
        items=(HoldItem(ticket_type_id="GA", quantity=3, unit_price_cents=0),),
        seats=(),
        complimentary=True,
    )

    effect = fold(
        [
            UnitsWithheld(ticket_type_id="GA", quantity=5, withholding=Withholding.COMPS),
            CompsIssued(sale=sale, allocation=Withholding.COMPS),
        ]
    )

    assert withheld_deltas(effect) == (["GA"], ["comps"], [2])
    assert new_sales(effect).allocations == ["comps"]
    assert new_sales(effect).totals_cents == [0]
    assert count_deltas(effect) == (["GA"], [0], [3])


def test_seats_blocked_then_unblocked_in_one_batch_return_to_available() -> None:
    effect = fold(
        [
            SeatsBlocked(seats=("101-A-1",), withholding=Withholding.PRESS),
            SeatsUnblocked(seats=("101-A-1",)),
        ]
    )

    assert seat_moves(effect) == (["101-A-1"], ["available"], ["available"])


def test_seats_unblocked_alone_leave_any_withheld_state() -> None:
    effect = fold([SeatsUnblocked(seats=("101-A-1",))])

    assert seat_moves(effect) == (["101-A-1"], [ANY_WITHHELD_STATE], ["available"])


def test_a_key_recorded_and_forgotten_in_one_batch_is_neither_written_nor_deleted() -> None:
    effect = fold(
        [
            IdempotencyKeyRecorded(record=record("k1")),
            IdempotencyKeyRecorded(record=record("k2")),
            IdempotencyKeysForgotten(keys=("k1", "k0")),
        ]
    )

    columns = main_columns(effect)
    assert columns is not None
    assert columns[14] == ["k2"]
    assert effect.forgotten == {"k0"}


def test_a_pause_is_an_event_setting_and_an_outbox_row_for_the_whole_inventory() -> None:
    effect = fold([SalePaused()])

    assert effect.paused is True
    assert main_columns(effect) is None
    assert outbox_rows(effect)[:2] == (["sale.paused"], [str(EVENT_ID)])


def test_only_holds_and_sales_from_before_the_batch_are_referenced() -> None:
    hold = seat_hold("h1", "101-A-1")
    changes: list[Change] = [
        HoldPlaced(hold=hold),
        HoldReleased(hold_id="h1"),
        HoldReleased(hold_id="h0"),
        OrderRefunded(order_id="o0"),
    ]

    assert referenced_ids(changes) == (["h0"], ["o0"])
    assert plan_changes(changes, event_id=EVENT_ID, now_ms=NOW_MS).effect is None


def test_a_batch_that_references_nothing_is_folded_before_its_transaction() -> None:
    plan = plan_changes(
        [HoldPlaced(hold=seat_hold("h1", "101-A-1"))], event_id=EVENT_ID, now_ms=NOW_MS
    )

    assert plan.effect is not None
    assert plan.main_columns == main_columns(plan.effect)


def decided_batch(simulation: Simulation, steps: int) -> list[Change]:
    """Run `steps` of the simulation's commands, keeping the changes of those it accepted."""
    changes: list[Change] = []
    for _ in range(steps):
        simulation.advance_clock()
        decision = execute(simulation.inventory, simulation.pick_command(), simulation.now_ms)
        if isinstance(decision, Decision):
            changes.extend(decision.changes)
    return changes


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    warm_up_steps=st.integers(min_value=0, max_value=200),
    batch_steps=st.integers(min_value=1, max_value=STEPS_PER_BATCH_MAX),
)
def test_the_folded_rows_move_the_stored_state_as_apply_moved_the_inventory(
    seed: int, warm_up_steps: int, batch_steps: int
) -> None:
    simulation = Simulation(seed)
    inventory = simulation.inventory
    decided_batch(simulation, warm_up_steps)
    holds_before, sales_before = dict(inventory.holds), dict(inventory.sales)
    counts_before = {key: (c.held, c.sold, dict(c.withheld)) for key, c in inventory.counts.items()}
    seats_before = bytes(inventory.seat_states.states)
    keys_before = set(inventory.idempotency_records)

    changes = decided_batch(simulation, batch_steps)
    hold_ids, order_ids = referenced_ids(changes)
    effect = net_effect(
        changes,
        [holds_before[hold_id] for hold_id in hold_ids],
        [sales_before[order_id] for order_id in order_ids],
        EVENT_ID,
        NOW_MS,
    )

    for hold_id, hold_draft in effect.holds.items():
        assert (hold_draft.status == "active") == (hold_id in inventory.holds), hold_id
        if hold_id in inventory.holds:
            assert hold_draft.hold == inventory.holds[hold_id]
    for order_id, sale_draft in effect.sales.items():
        assert (sale_draft.status == "live") == (order_id in inventory.sales), order_id
    held: dict[str, int] = {}
    sold: dict[str, int] = {}
    for ticket_type_id, held_delta, sold_delta in zip(*count_deltas(effect), strict=True):
        held[ticket_type_id], sold[ticket_type_id] = held_delta, sold_delta
    withheld = {
        (ticket_type_id, withholding): delta
        for ticket_type_id, withholding, delta in zip(*withheld_deltas(effect), strict=True)
    }
    for ticket_type_id, counts in inventory.counts.items():
        held_before, sold_before, withheld_before = counts_before[ticket_type_id]
        assert counts.held - held_before == held.get(ticket_type_id, 0)
        assert counts.sold - sold_before == sold.get(ticket_type_id, 0)
        if inventory.ticket_types[ticket_type_id].kind is TicketKind.GENERAL:
            for withholding, quantity in counts.withheld.items():
                expected = quantity - withheld_before[withholding]
                assert withheld.get((ticket_type_id, withholding.value), 0) == expected
    moves = seat_moves(effect)
    moved = dict(zip(moves.labels, zip(moves.before, moves.after, strict=True), strict=True))
    for seat_index, state_before in enumerate(seats_before):
        label = inventory.seat_map.label(seat_index)
        state_after = inventory.seat_states.states[seat_index]
        if label not in moved:
            assert state_after == state_before, label
            continue
        before, after = moved[label]
        assert after == SEAT_STATE_NAMES[SeatState(state_after)], label
        stored_before = SEAT_STATE_NAMES[SeatState(state_before)]
        if before == ANY_WITHHELD_STATE:
            assert stored_before in WITHHELD_SEAT_STATE_NAMES, label
        else:
            assert before == stored_before, label
    assert set(inventory.idempotency_records) == (keys_before - effect.forgotten) | set(
        effect.recorded
    )
    assert effect.paused is None or effect.paused == inventory.paused
