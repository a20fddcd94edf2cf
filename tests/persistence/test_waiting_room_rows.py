"""The fold of a waiting room's batch into place rows, without Postgres: places a batch creates are
written whole, places it changes only in the columns it moved, and for any run of commands the
rows written agree with the room's own snapshot after the batch."""

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rejections import Rejected
from engine.stock import Stock
from engine.waiting_room.apply import apply
from engine.waiting_room.changes import (
    FansAdmitted,
    FansJoined,
    PlacesSeen,
    PreQueueDrawn,
    WaitingRoomChange,
)
from engine.waiting_room.commands import (
    AdmitFans,
    EndAccess,
    ExpireAccess,
    JoinFans,
    OpenWaitingRoom,
    RecordPolls,
    RecordStock,
    WaitingRoomCommand,
)
from engine.waiting_room.configuration import WaitingRoomSettings
from engine.waiting_room.decide import decide
from engine.waiting_room.rows import snapshot_waiting_room
from engine.waiting_room.state import PLACE_TRANSITIONS, PlaceState, WaitingRoom
from persistence.waiting_room_rows import NET_STATE_MOVES, place_rows

OPENS_AT_MS = 1_000_000
ACCESS_TTL_S = 60
FAN_POOL = 12


def make_room() -> WaitingRoom:
    return WaitingRoom(
        WaitingRoomSettings(
            event_id="event-1",
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=3,
            max_active_shoppers=5,
            access_ttl_s=ACCESS_TTL_S,
        )
    )


def fans_named(count: int) -> list[str]:
    return [f"fan-{number}" for number in range(count)]


def applied(changes: list[WaitingRoomChange], room: WaitingRoom | None = None) -> WaitingRoom:
    """The room after `changes`, as the writer is given it."""
    room = room or make_room()
    for change in changes:
        apply(room, change)
    return room


def test_fans_joined_and_admitted_in_one_batch_are_new_admitted_places() -> None:
    changes: list[WaitingRoomChange] = [
        FansJoined(joined_at_ms=5, first_sequence=0, fan_ids=["ana", "bo"], into_pre_queue=False),
        FansAdmitted(
            admitted_at_ms=7,
            first_slot=0,
            admitted_sequences=[0],
            abandoned_sequences=[1],
            admission_credit_milli=0,
            access_expires_at_ms=9,
        ),
    ]

    new_places, changed_places = place_rows(changes, applied(changes))

    assert new_places == (
        [0, 1],
        ["ana", "bo"],
        [0, 1],
        ["admitted", "expired"],
        [5, 5],
        [7, None],
        [9, None],
    )
    assert changed_places.sequences == []


def test_a_place_seen_twice_is_changed_once_with_the_latest_time_and_nothing_else() -> None:
    room = applied(
        [FansJoined(joined_at_ms=5, first_sequence=0, fan_ids=fans_named(4), into_pre_queue=True)]
    )
    changes: list[WaitingRoomChange] = [
        PlacesSeen(seen_at_ms=20, sequences=[3]),
        PlacesSeen(seen_at_ms=10, sequences=[3, 1]),
    ]

    new_places, changed_places = place_rows(changes, applied(changes, room))

    assert new_places.sequences == []
    assert changed_places == ([1, 3], [None, None], [None, None], [10, 20], [None] * 2, [None] * 2)


def test_the_draw_moves_every_pre_queue_place_to_waiting_in_its_drawn_slot() -> None:
    room = applied(
        [FansJoined(joined_at_ms=5, first_sequence=0, fan_ids=fans_named(4), into_pre_queue=True)]
    )
    drawn: list[WaitingRoomChange] = [
        PreQueueDrawn(opened_at_ms=OPENS_AT_MS, draw_seed=42, pre_queue_count=4)
    ]

    new_places, changed_places = place_rows(drawn, applied(drawn, room))

    assert new_places.sequences == []
    assert changed_places.sequences == [0, 1, 2, 3]
    assert sorted(slot for slot in changed_places.slots if slot is not None) == [0, 1, 2, 3]
    assert changed_places.states == ["waiting"] * 4


def test_net_state_moves_are_the_moves_the_table_reaches_and_never_a_stay() -> None:
    direct = {f"{state}>{target}" for state in PlaceState for target in PLACE_TRANSITIONS[state]}

    assert direct <= set(NET_STATE_MOVES)
    assert "pre_queue>admitted" in NET_STATE_MOVES
    assert not any(move.split(">")[0] == move.split(">")[1] for move in NET_STATE_MOVES)
    assert not any(move.startswith("expired>") for move in NET_STATE_MOVES)


fans = st.lists(st.integers(0, FAN_POOL - 1).map(lambda number: f"fan-{number}"), min_size=1)
commands = st.one_of(
    fans.map(lambda fan_ids: JoinFans(fan_ids=fan_ids)),
    fans.map(lambda fan_ids: JoinFans(fan_ids=fan_ids, presale_fan_ids=fan_ids[::2])),
    fans.map(lambda fan_ids: RecordPolls(fan_ids=fan_ids)),
    fans.map(lambda fan_ids: EndAccess(fan_ids=fan_ids)),
    st.just(AdmitFans()),
    st.just(ExpireAccess()),
    st.integers(0, 2**32).map(lambda seed: OpenWaitingRoom(draw_seed=seed)),
    st.sampled_from(Stock).map(lambda stock: RecordStock(stock=stock)),
)
steps = st.lists(st.tuples(st.integers(0, 40_000), commands), max_size=25)


def decided(room: WaitingRoom, steps: list[tuple[int, WaitingRoomCommand]], now_ms: int) -> int:
    """Decide and apply each step at its time (a rejected command changes nothing); returns the
    time after the last."""
    for wait_ms, command in steps:
        now_ms += wait_ms
        decide_and_apply(room, command, now_ms)
    return now_ms


def decide_and_apply(
    room: WaitingRoom, command: WaitingRoomCommand, now_ms: int
) -> list[WaitingRoomChange]:
    outcome = decide(room, command, now_ms)
    if isinstance(outcome, Rejected):
        return []
    for change in outcome:
        apply(room, change)
    return outcome


@settings(max_examples=80, deadline=None)
@given(before=steps, batch=steps)
def test_the_place_rows_of_a_batch_agree_with_the_room_after_it(
    before: list[tuple[int, WaitingRoomCommand]], batch: list[tuple[int, WaitingRoomCommand]]
) -> None:
    room = make_room()
    now_ms = decided(room, before, OPENS_AT_MS - 30_000)
    _, places_before = snapshot_waiting_room(room)
    changes: list[WaitingRoomChange] = []
    for wait_ms, command in batch:
        now_ms += wait_ms
        changes.extend(decide_and_apply(room, command, now_ms))

    new_places, changed_places = place_rows(changes, room)

    _, places_after = snapshot_waiting_room(room)
    assert new_places.sequences == list(range(len(places_before), len(places_after)))
    for index, sequence in enumerate(new_places.sequences):
        place = places_after[sequence]
        assert new_places.fan_ids[index] == place.fan_id
        assert new_places.slots[index] == place.slot
        assert new_places.states[index] == place.state.value
        assert new_places.last_seen_ms[index] == place.last_seen_ms
        assert new_places.admitted_at_ms[index] == place.admitted_at_ms
        assert new_places.access_expires_at_ms[index] == place.access_expires_at_ms
    for index, sequence in enumerate(changed_places.sequences):
        place, earlier = places_after[sequence], places_before[sequence]
        assert changed_places.slots[index] in (None, place.slot)
        if changed_places.slots[index] is None:
            assert place.slot == earlier.slot
        assert changed_places.states[index] in (None, place.state.value)
        assert changed_places.admitted_at_ms[index] in (None, place.admitted_at_ms)
        assert changed_places.access_expires_at_ms[index] in (None, place.access_expires_at_ms)
        if changed_places.states[index] not in (None, earlier.state.value):
            assert f"{earlier.state}>{place.state}" in NET_STATE_MOVES
        seen_ms = changed_places.last_seen_ms[index]
        assert max(earlier.last_seen_ms, seen_ms or 0) == place.last_seen_ms
    unchanged = set(range(len(places_before))) - set(changed_places.sequences)
    for sequence in unchanged:
        assert places_after[sequence] == places_before[sequence]
