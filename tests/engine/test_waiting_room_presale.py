"""The presale line of a waiting room: fans with a presale code are admitted in join order before
`opens_at`, at the room's rate and under its cap, and stay ahead of the pre-queue's draw."""

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.pre_queue_draw import SEED_MAX, draw_pre_queue_order
from engine.rejections import Reason, Rejected
from engine.stock import Stock
from engine.waiting_room import apply as waiting_room
from engine.waiting_room.changes import (
    FansAdmitted,
    FansJoined,
    PlacesMovedToPresale,
    PlacesSeen,
    WaitingRoomChange,
)
from engine.waiting_room.commands import (
    AdmitFans,
    JoinFans,
    OpenWaitingRoom,
    RecordPolls,
    RecordStock,
    WaitingRoomCommand,
)
from engine.waiting_room.configuration import WaitingRoomSettings
from engine.waiting_room.decide import decide
from engine.waiting_room.rows import rebuild_waiting_room, snapshot_waiting_room
from engine.waiting_room.state import PlaceState, WaitingRoom
from engine.waiting_room.views import PlaceView, count_places, describe_place

SECRET = b"k" * 32
EVENT_ID = "5c0e3a8e-7d41-4a0c-9a59-0d7b2f6f1e21"
OPENS_AT_MS = 10_000_000
PRESALE_AT_MS = OPENS_AT_MS - 3_600_000


def make_room(admit_per_second: int = 2, max_active_shoppers: int = 100) -> WaitingRoom:
    return WaitingRoom(
        WaitingRoomSettings(
            event_id=EVENT_ID,
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=admit_per_second,
            max_active_shoppers=max_active_shoppers,
            access_ttl_s=900,
        )
    )


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


def presale_join(fan_ids: list[str]) -> JoinFans:
    return JoinFans(fan_ids=fan_ids, presale_fan_ids=fan_ids)


def admitted_fans(changes: list[WaitingRoomChange], room: WaitingRoom) -> list[str]:
    return [
        room.fan_index.fan_id(sequence)
        for change in changes
        if isinstance(change, FansAdmitted)
        for sequence in change.admitted_sequences
    ]


def assert_rebuild_equals(room: WaitingRoom, now_ms: int) -> None:
    rebuilt = rebuild_waiting_room(*snapshot_waiting_room(room))
    assert snapshot_waiting_room(rebuilt) == snapshot_waiting_room(room)
    assert count_places(rebuilt) == count_places(room)
    for sequence in range(room.fan_count):
        fan_id = room.fan_index.fan_id(sequence)
        assert view(rebuilt, fan_id, now_ms) == view(room, fan_id, now_ms)
    assert decide(rebuilt, AdmitFans(), now_ms) == decide(room, AdmitFans(), now_ms)


def test_presale_fans_wait_in_join_order_ahead_of_the_pre_queue_when_joining_before_opens_at() -> (
    None
):
    room = make_room()
    run(room, JoinFans(fan_ids=["early"]), PRESALE_AT_MS)
    run(room, presale_join(["code-1", "code-2"]), PRESALE_AT_MS + 1)
    run(room, presale_join(["code-3"]), PRESALE_AT_MS + 2)

    assert view(room, "early", PRESALE_AT_MS + 2).state is PlaceState.PRE_QUEUE
    assert [view(room, fan, PRESALE_AT_MS + 2).position for fan in ("code-1", "code-2")] == [0, 1]
    assert view(room, "code-3", PRESALE_AT_MS + 2).state is PlaceState.WAITING
    assert view(room, "code-3", PRESALE_AT_MS + 2).position == 2
    counts = count_places(room)
    assert (counts.pre_queue, counts.waiting, counts.presale_waiting) == (1, 3, 3)


def test_presale_line_is_admitted_before_opens_at_at_the_room_rate_when_tickets_are_available() -> (
    None
):
    room = make_room(admit_per_second=2)
    fans = [f"code-{number}" for number in range(5)]
    run(room, presale_join(fans), PRESALE_AT_MS)
    run(room, JoinFans(fan_ids=["plain"]), PRESALE_AT_MS)

    first = admitted_fans(run(room, AdmitFans(), PRESALE_AT_MS), room)
    run(room, RecordPolls(fan_ids=fans), PRESALE_AT_MS + 1_000)
    second = admitted_fans(run(room, AdmitFans(), PRESALE_AT_MS + 1_000), room)

    assert first + second == fans[: len(first) + len(second)]
    assert len(second) == 2
    place = view(room, first[0], PRESALE_AT_MS + 1_000)
    assert place.state is PlaceState.ADMITTED and place.access_token is not None
    assert view(room, "plain", PRESALE_AT_MS + 1_000).state is PlaceState.PRE_QUEUE
    assert not room.is_open


def test_presale_admission_stops_at_the_active_cap_and_at_the_end_of_the_presale_line() -> None:
    room = make_room(admit_per_second=50, max_active_shoppers=2)
    run(room, presale_join(["code-1", "code-2", "code-3"]), PRESALE_AT_MS)
    run(room, JoinFans(fan_ids=["plain"]), PRESALE_AT_MS)

    changes = run(room, AdmitFans(), PRESALE_AT_MS + 60_000)
    assert admitted_fans(changes, room) == ["code-1", "code-2"]

    wide = make_room(admit_per_second=50)
    run(wide, presale_join(["code-1"]), PRESALE_AT_MS)
    run(wide, JoinFans(fan_ids=["plain"]), PRESALE_AT_MS)
    assert admitted_fans(run(wide, AdmitFans(), PRESALE_AT_MS + 60_000), wide) == ["code-1"]
    assert run(wide, AdmitFans(), PRESALE_AT_MS + 120_000) == []


def test_nobody_is_admitted_before_opens_at_when_no_fan_has_a_presale_code() -> None:
    room = make_room()
    run(room, JoinFans(fan_ids=["a", "b"]), PRESALE_AT_MS)

    assert run(room, AdmitFans(), OPENS_AT_MS - 1) == []


def test_presale_admission_pauses_when_nothing_is_available() -> None:
    room = make_room()
    run(room, presale_join(["code-1"]), PRESALE_AT_MS)
    run(room, RecordStock(stock=Stock.HELD), PRESALE_AT_MS)

    assert run(room, AdmitFans(), PRESALE_AT_MS + 10_000) == []


def test_pre_queue_fan_moves_to_the_end_of_the_presale_line_when_joining_again_with_a_code() -> (
    None
):
    room = make_room()
    run(room, JoinFans(fan_ids=["a", "b"]), PRESALE_AT_MS)
    run(room, presale_join(["code-1"]), PRESALE_AT_MS + 1)

    changes = run(room, presale_join(["b"]), PRESALE_AT_MS + 2)

    assert changes == [
        PlacesMovedToPresale(moved_at_ms=PRESALE_AT_MS + 2, sequences=[1]),
        PlacesSeen(seen_at_ms=PRESALE_AT_MS + 2, sequences=[1]),
    ]
    b = view(room, "b", PRESALE_AT_MS + 2)
    assert (b.state, b.position) == (PlaceState.WAITING, 1)
    assert view(room, "a", PRESALE_AT_MS + 2).state is PlaceState.PRE_QUEUE
    assert (room.pre_queue_count, room.presale_count) == (1, 2)
    assert run(room, presale_join(["b"]), PRESALE_AT_MS + 3) == [
        PlacesSeen(seen_at_ms=PRESALE_AT_MS + 3, sequences=[1])
    ]


def test_draw_at_opens_at_puts_the_pre_queue_behind_presale_fans_still_waiting() -> None:
    room = make_room(admit_per_second=1)
    pre_queue = [f"fan-{number}" for number in range(6)]
    run(room, JoinFans(fan_ids=pre_queue[:3]), PRESALE_AT_MS)
    run(room, presale_join(["code-1", "code-2", "code-3"]), PRESALE_AT_MS + 1)
    run(room, JoinFans(fan_ids=pre_queue[3:]), PRESALE_AT_MS + 2)
    run(room, RecordPolls(fan_ids=["code-1", "code-2", "code-3"]), PRESALE_AT_MS + 2)
    assert admitted_fans(run(room, AdmitFans(), PRESALE_AT_MS + 2), room) != []
    admitted_before = room.head_slot
    late_at_ms = OPENS_AT_MS + 5
    run(room, JoinFans(fan_ids=["late"]), late_at_ms)

    run(room, OpenWaitingRoom(draw_seed=99), late_at_ms)

    drawn = [pre_queue[index] for index in draw_pre_queue_order(99, len(pre_queue))]
    presale_left = ["code-1", "code-2", "code-3"][admitted_before:]
    queue = [room.fan_index.fan_id(room.sequence_at_slot[slot]) for slot in range(room.fan_count)]
    assert queue[room.head_slot :] == presale_left + drawn + ["late"]
    for position, fan_id in enumerate(presale_left + drawn + ["late"]):
        assert view(room, fan_id, late_at_ms).position == position
    assert_rebuild_equals(room, late_at_ms)


def test_late_fan_before_the_draw_counts_the_pre_queue_ahead_of_it_but_not_the_presale_line() -> (
    None
):
    room = make_room()
    run(room, JoinFans(fan_ids=["a", "b"]), PRESALE_AT_MS)
    run(room, presale_join(["code-1"]), PRESALE_AT_MS)

    run(room, JoinFans(fan_ids=["late"]), OPENS_AT_MS)

    assert view(room, "late", OPENS_AT_MS).position == 3
    assert view(room, "code-1", OPENS_AT_MS).position == 0


def test_presale_code_changes_nothing_when_joining_after_opens_at() -> None:
    room = make_room()
    run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=["first"]), OPENS_AT_MS)

    changes = run(room, presale_join(["code-1"]), OPENS_AT_MS + 1)

    assert changes == [
        FansJoined(
            joined_at_ms=OPENS_AT_MS + 1,
            first_sequence=1,
            fan_ids=["code-1"],
            into_pre_queue=False,
        )
    ]
    assert view(room, "code-1", OPENS_AT_MS + 1).position == 1
    assert count_places(room).presale_waiting == 0


def test_join_is_refused_when_a_presale_fan_is_not_in_the_batch() -> None:
    room = make_room()

    outcome = decide(room, JoinFans(fan_ids=["a"], presale_fan_ids=["b"]), PRESALE_AT_MS)

    assert isinstance(outcome, Rejected) and outcome.reason is Reason.VALIDATION_ERROR


joins = st.lists(
    st.tuples(st.integers(0, 11).map(lambda number: f"fan-{number}"), st.booleans()),
    min_size=1,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(
    joins=joins,
    admits_before=st.integers(0, 4),
    draw_seed=st.integers(0, SEED_MAX),
)
def test_admission_order_is_presale_line_then_draw_then_latecomers_when_joins_come_in_any_order(
    joins: list[tuple[str, bool]], admits_before: int, draw_seed: int
) -> None:
    room = make_room(admit_per_second=1, max_active_shoppers=1_000)
    presale_line: list[str] = []
    pre_queue: list[str] = []
    now_ms = PRESALE_AT_MS
    for fan_id, with_code in joins:
        now_ms += 1
        run(room, JoinFans(fan_ids=[fan_id], presale_fan_ids=[fan_id] if with_code else []), now_ms)
        if with_code and fan_id not in presale_line:
            presale_line.append(fan_id)
            if fan_id in pre_queue:
                pre_queue.remove(fan_id)
        elif fan_id not in presale_line and fan_id not in pre_queue:
            pre_queue.append(fan_id)
    order: list[str] = []
    for _ in range(admits_before):
        now_ms += 1_000
        run(room, RecordPolls(fan_ids=[*presale_line, "nobody"]), now_ms)
        order += admitted_fans(run(room, AdmitFans(), now_ms), room)
    assert order == presale_line[: len(order)]
    assert_rebuild_equals(room, now_ms)

    run(room, OpenWaitingRoom(draw_seed=draw_seed), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=["late"]), OPENS_AT_MS)
    pre_queue_in_sequence = sorted(pre_queue, key=room.fan_index.find)
    drawn = [
        pre_queue_in_sequence[index]
        for index in draw_pre_queue_order(draw_seed, len(pre_queue_in_sequence))
    ]
    now_ms = OPENS_AT_MS
    while room.head_slot < room.fan_count:
        now_ms += 1_000
        run(room, RecordPolls(fan_ids=[*presale_line, *pre_queue, "late"]), now_ms)
        order += admitted_fans(run(room, AdmitFans(), now_ms), room)
        assert_rebuild_equals(room, now_ms)

    assert order == [*presale_line, *drawn, "late"]
