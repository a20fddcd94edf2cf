"""A waiting room at a sell-out: admission pauses while nothing is available, and once nothing is
held either every queued place (and every new join) shows `sold_out`, without a write per place;
stock that comes back resumes admission."""

import pytest

from engine.rejections import Rejected
from engine.stock import Stock
from engine.waiting_room import apply as waiting_room
from engine.waiting_room.changes import FansAdmitted, StockRecorded, WaitingRoomChange
from engine.waiting_room.commands import (
    AdmitFans,
    JoinFans,
    OpenWaitingRoom,
    RecordStock,
    WaitingRoomCommand,
)
from engine.waiting_room.configuration import WaitingRoomSettings
from engine.waiting_room.decide import decide
from engine.waiting_room.rows import rebuild_waiting_room, snapshot_waiting_room
from engine.waiting_room.state import PlaceState, WaitingRoom
from engine.waiting_room.views import PlaceView, count_places, describe_place

SECRET = b"k" * 32
EVENT_ID = "0b9d7f34-1c1e-4d55-8f0e-2b8e3c4d5a6f"
OPENS_AT_MS = 1_000_000


def run(room: WaitingRoom, command: WaitingRoomCommand, now_ms: int) -> list[WaitingRoomChange]:
    outcome = decide(room, command, now_ms)
    assert not isinstance(outcome, Rejected), outcome
    for change in outcome:
        waiting_room.apply(room, change)
    return outcome


def view(room: WaitingRoom, fan_id: str, now_ms: int) -> PlaceView:
    outcome = describe_place(room, fan_id, now_ms, access_secret=SECRET)
    assert isinstance(outcome, PlaceView), outcome
    return outcome


def fans(count: int) -> list[str]:
    return [f"fan-{number}" for number in range(count)]


def room_with(fan_ids: list[str], *, opened: bool = True) -> WaitingRoom:
    room = WaitingRoom(
        WaitingRoomSettings(
            event_id=EVENT_ID,
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=2,
            max_active_shoppers=100,
            access_ttl_s=60,
        )
    )
    if opened:
        run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=fan_ids), OPENS_AT_MS - (0 if opened else 1))
    return room


def test_stock_is_available_while_any_unit_is_on_sale_then_held_then_sold_out() -> None:
    assert Stock.of(available=1, held=5) is Stock.AVAILABLE
    assert Stock.of(available=0, held=1) is Stock.HELD
    assert Stock.of(available=0, held=0) is Stock.SOLD_OUT


def test_waiting_places_show_held_inventory_and_keep_their_positions_while_only_holds_remain() -> (
    None
):
    room = room_with(fans(3))
    run(room, RecordStock(stock=Stock.HELD), OPENS_AT_MS)
    places = [view(room, fan, OPENS_AT_MS) for fan in fans(3)]
    assert [(place.state, place.position, place.inventory) for place in places] == [
        (PlaceState.WAITING, position, Stock.HELD) for position in range(3)
    ]


def test_nobody_is_admitted_while_nothing_is_available_and_admitting_resumes_with_stock() -> None:
    room = room_with(fans(4))
    run(room, RecordStock(stock=Stock.HELD), OPENS_AT_MS)
    assert run(room, AdmitFans(), OPENS_AT_MS + 5_000) == []
    run(room, RecordStock(stock=Stock.AVAILABLE), OPENS_AT_MS + 5_000)
    admitted = run(room, AdmitFans(), OPENS_AT_MS + 5_000)
    assert isinstance(admitted[0], FansAdmitted)
    assert admitted[0].admitted_sequences == [0, 1]


def test_every_queued_place_and_every_new_join_is_sold_out_without_position_when_sold_out() -> None:
    room = room_with(fans(3))
    run(room, AdmitFans(), OPENS_AT_MS + 500)
    changes = run(room, RecordStock(stock=Stock.SOLD_OUT), OPENS_AT_MS + 600)
    run(room, JoinFans(fan_ids=["late"]), OPENS_AT_MS + 700)

    assert changes == [StockRecorded(recorded_at_ms=OPENS_AT_MS + 600, stock=Stock.SOLD_OUT)]
    shown = {fan: view(room, fan, OPENS_AT_MS + 700) for fan in [*fans(3), "late"]}
    assert {fan: place.state for fan, place in shown.items()} == {
        "fan-0": PlaceState.ADMITTED,
        "fan-1": PlaceState.SOLD_OUT,
        "fan-2": PlaceState.SOLD_OUT,
        "late": PlaceState.SOLD_OUT,
    }
    assert shown["fan-0"].access_token is not None
    assert [(shown[fan].position, shown[fan].eta_s) for fan in ["fan-1", "late"]] == [
        (None, None),
        (None, None),
    ]
    counts = count_places(room)
    assert (counts.waiting, counts.sold_out, counts.admitted, counts.present) == (0, 3, 1, 4)


def test_pre_queue_places_are_sold_out_when_the_event_sells_out_before_the_room_opens() -> None:
    room = room_with(fans(2), opened=False)
    run(room, RecordStock(stock=Stock.SOLD_OUT), OPENS_AT_MS - 1)
    assert {view(room, fan, OPENS_AT_MS - 1).state for fan in fans(2)} == {PlaceState.SOLD_OUT}


@pytest.mark.parametrize("stock", list(Stock))
def test_no_change_when_the_stock_is_what_the_room_recorded(stock: Stock) -> None:
    room = room_with(fans(1))
    run(room, RecordStock(stock=stock), OPENS_AT_MS)
    assert run(room, RecordStock(stock=stock), OPENS_AT_MS + 1) == []


def test_queued_places_wait_again_in_their_order_when_stock_returns_after_a_sell_out() -> None:
    room = room_with(fans(3))
    run(room, RecordStock(stock=Stock.SOLD_OUT), OPENS_AT_MS)
    run(room, RecordStock(stock=Stock.AVAILABLE), OPENS_AT_MS + 1)
    assert [view(room, fan, OPENS_AT_MS + 1).position for fan in fans(3)] == [0, 1, 2]


def test_rebuilt_room_keeps_its_recorded_stock_when_rebuilt_from_its_rows() -> None:
    room = room_with(fans(2))
    run(room, RecordStock(stock=Stock.SOLD_OUT), OPENS_AT_MS)
    rebuilt = rebuild_waiting_room(*snapshot_waiting_room(room))
    assert rebuilt.stock is Stock.SOLD_OUT
    assert view(rebuilt, "fan-1", OPENS_AT_MS) == view(room, "fan-1", OPENS_AT_MS)
