"""The codes' part of a batch worked out with no I/O: the tallies a batch moves net out what it
both took and gave back, and a hold that becomes a sale moves its use from held to kept."""

import uuid

from engine.changes import HoldConverted, HoldPlaced, HoldReleased, OrderRefunded
from engine.holds import Hold, HoldItem, Sale
from engine.pricing import price_order
from persistence.code_writes import CodeTallyDeltas, tally_deltas
from persistence.inventory_batch import net_effect

EVENT_ID = uuid.uuid4()
NOW_MS = 1_000_000


def coded_hold(hold_id: str, fan_id: str, code_id: str | None = "code-1") -> Hold:
    return Hold(
        hold_id=hold_id,
        fan_id=fan_id,
        items=(HoldItem(ticket_type_id="GA", quantity=2, unit_price_cents=900),),
        seats=(),
        expires_at_ms=NOW_MS + 60_000,
        code_id=code_id,
    )


def sale_of(hold: Hold, order_id: str) -> Sale:
    return Sale(
        order_id=order_id, fan_id=hold.fan_id, items=hold.items, seats=(), code_id=hold.code_id
    )


def test_a_hold_placed_and_released_in_one_batch_moves_nothing() -> None:
    hold = coded_hold("hold-1", "fan-1")
    effect = net_effect(
        [HoldPlaced(hold=hold), HoldReleased(hold_id="hold-1")], (), (), EVENT_ID, NOW_MS
    )
    assert tally_deltas(effect) == CodeTallyDeltas([], [], [], [], [], [])


def test_holds_of_a_batch_take_uses_and_a_hold_without_a_code_takes_none() -> None:
    effect = net_effect(
        [
            HoldPlaced(hold=coded_hold("hold-1", "fan-1")),
            HoldPlaced(hold=coded_hold("hold-2", "fan-1")),
            HoldPlaced(hold=coded_hold("hold-3", "fan-2", code_id=None)),
        ],
        (),
        (),
        EVENT_ID,
        NOW_MS,
    )
    assert tally_deltas(effect) == CodeTallyDeltas(["code-1"], [2], [0], ["code-1"], ["fan-1"], [2])


def test_a_converted_hold_keeps_its_use_and_a_refunded_sale_gives_it_back() -> None:
    hold = coded_hold("hold-1", "fan-1")
    sale = sale_of(hold, "order-1")
    converted = net_effect(
        [HoldConverted(hold_id="hold-1", sale=sale, price=price_order(sale.subtotal_cents))],
        (hold,),
        (),
        EVENT_ID,
        NOW_MS,
    )
    assert tally_deltas(converted) == CodeTallyDeltas(["code-1"], [-1], [1], [], [], [])
    refunded = net_effect([OrderRefunded(order_id="order-1")], (), (sale,), EVENT_ID, NOW_MS)
    assert tally_deltas(refunded) == CodeTallyDeltas(
        ["code-1"], [0], [-1], ["code-1"], ["fan-1"], [-1]
    )
