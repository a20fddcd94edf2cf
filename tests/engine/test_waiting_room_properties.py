"""Properties of the waiting room over random joins (some with a presale code), polls, admissions,
expiries, rate changes and time jumps: one place per fan, positions a permutation, the presale line
in join order ahead of the pre-queue, the pre-queue ordered by the seed alone, first come first
served after opening, rate and cap never exceeded, ETAs that never rise while the
rate holds, abandoned places that never stall the queue, and rebuilds equal to the original."""

import dataclasses

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from engine.limits import ACCESS_TTL_S_MIN, ADMISSION_BURST_MS, PLACE_ABANDONED_AFTER_MS
from engine.pre_queue_draw import SEED_MAX, draw_pre_queue_order
from engine.rejections import Rejected
from engine.waiting_room import apply as waiting_room
from engine.waiting_room.changes import AccessEnded, FansAdmitted, WaitingRoomChange
from engine.waiting_room.commands import (
    AdmitFans,
    ChangeWaitingRoomSettings,
    EndAccess,
    ExpireAccess,
    JoinFans,
    OpenWaitingRoom,
    RecordPolls,
    WaitingRoomCommand,
)
from engine.waiting_room.configuration import WaitingRoomSettings
from engine.waiting_room.decide import decide
from engine.waiting_room.rows import rebuild_waiting_room, snapshot_waiting_room
from engine.waiting_room.state import PlaceState, WaitingRoom
from engine.waiting_room.views import PlaceView, describe_place

SECRET = b"p" * 32
EVENT_ID = "event-under-test"
OPENS_AT_MS = 1_000_000
STARTS_AT_MS = OPENS_AT_MS - 6_000
FAN_POOL = 30

short_waits_ms = st.sampled_from([0, 1, 250, 500, 999, 1_000, 2_000, 4_000])
long_waits_ms = st.sampled_from(
    [
        ACCESS_TTL_S_MIN * 1_000 - 1,
        ACCESS_TTL_S_MIN * 1_000,
        PLACE_ABANDONED_AFTER_MS - 1,
        PLACE_ABANDONED_AFTER_MS,
    ]
)
mostly = st.sampled_from([True, True, True, False])


@dataclasses.dataclass(frozen=True)
class Tick:
    """What happens in one turn of the shell's loop, in this order."""

    wait_ms: int
    new_rate: int | None
    joining: list[int]
    with_code: list[int]
    polling: list[int]
    ending: list[int]
    expires: bool
    admits: bool


def fan_numbers(size_max: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, FAN_POOL - 1), max_size=size_max)


ticks = st.lists(
    st.builds(
        Tick,
        wait_ms=st.one_of(short_waits_ms, short_waits_ms, short_waits_ms, long_waits_ms),
        new_rate=st.one_of(st.none(), st.none(), st.none(), st.integers(1, 6)),
        joining=fan_numbers(5),
        with_code=fan_numbers(2),
        polling=fan_numbers(12),
        ending=fan_numbers(3),
        expires=mostly,
        admits=mostly,
    ),
    min_size=3,
    max_size=30,
)


@dataclasses.dataclass
class Model:
    """What the room must agree with, kept the simple way."""

    now_ms: int
    rate: int
    draw_seed: int
    presale_fans: list[str] = dataclasses.field(default_factory=list)
    pre_queue_fans: list[str] = dataclasses.field(default_factory=list)
    later_fans: list[str] = dataclasses.field(default_factory=list)
    earned_milli: int = 0
    admitted_total: int = 0
    previous_etas: dict[str, int] = dataclasses.field(default_factory=dict)


def run(room: WaitingRoom, command: WaitingRoomCommand, now_ms: int) -> list[WaitingRoomChange]:
    outcome = decide(room, command, now_ms)
    assert not isinstance(outcome, Rejected), outcome
    for change in outcome:
        waiting_room.apply(room, change)
    return outcome


def fan_name(number: int) -> str:
    return f"fan-{number}"


def view(room: WaitingRoom, fan_id: str, now_ms: int) -> PlaceView:
    outcome = describe_place(room, fan_id, now_ms, access_secret=SECRET)
    assert isinstance(outcome, PlaceView)
    return outcome


def join_in_model(model: Model, joining: list[str], with_code: list[str]) -> None:
    """Before the opening a fan with a code joins the presale line (new fans first, then fans
    moving from the pre-queue) and one without the pre-queue; after it, both queue in order."""
    before_opening = model.now_ms < OPENS_AT_MS and not model.later_fans
    known = set(model.presale_fans + model.pre_queue_fans + model.later_fans)
    if not before_opening:
        model.later_fans.extend(fan for fan in dict.fromkeys(joining) if fan not in known)
        return
    coded = set(with_code)
    new = [fan for fan in dict.fromkeys(joining) if fan not in known]
    moving = [fan for fan in dict.fromkeys(with_code) if fan in model.pre_queue_fans]
    model.presale_fans.extend(fan for fan in new if fan in coded)
    model.presale_fans.extend(moving)
    model.pre_queue_fans = [fan for fan in model.pre_queue_fans if fan not in moving]
    model.pre_queue_fans.extend(fan for fan in new if fan not in coded)


def check_invariants(room: WaitingRoom, model: Model) -> None:
    joined = model.presale_fans + model.pre_queue_fans + model.later_fans
    assert room.fan_count == len(joined) == len(set(joined))
    for fan_id in joined:
        sequence = room.fan_index.find(fan_id)
        assert sequence >= 0 and room.fan_index.fan_id(sequence) == fan_id

    views = {fan_id: view(room, fan_id, model.now_ms) for fan_id in joined}
    waiting_positions = sorted(
        place.position
        for place in views.values()
        if place.state is PlaceState.WAITING and place.position is not None
    )
    waiting_count = sum(place.state is PlaceState.WAITING for place in views.values())
    presale_waiting = sum(views[fan].state is PlaceState.WAITING for fan in model.presale_fans)
    later_from = 0 if room.is_open else len(model.pre_queue_fans)
    assert waiting_positions == list(range(presale_waiting)) + list(
        range(presale_waiting + later_from, later_from + waiting_count)
    )
    if not room.is_open:
        assert all(views[fan].state is PlaceState.PRE_QUEUE for fan in model.pre_queue_fans)
        assert all(views[fan].state is not PlaceState.PRE_QUEUE for fan in model.presale_fans)

    in_slot_order = [
        room.fan_index.fan_id(room.sequence_at_slot[slot]) for slot in range(room.slotted_count)
    ]
    if room.is_open:
        drawn = [
            model.pre_queue_fans[index]
            for index in draw_pre_queue_order(model.draw_seed, len(model.pre_queue_fans))
        ]
        assert in_slot_order == model.presale_fans + drawn + model.later_fans
    else:
        assert in_slot_order == model.presale_fans + model.later_fans

    admitted_states = sum(
        state == list(PlaceState).index(PlaceState.ADMITTED) for state in room.states
    )
    assert room.active_shopper_count == admitted_states <= room.settings.max_active_shoppers
    assert model.admitted_total * 1_000 <= model.earned_milli

    for fan_id, place in views.items():
        if place.eta_s is None:
            model.previous_etas.pop(fan_id, None)
            continue
        previous = model.previous_etas.get(fan_id)
        assert previous is None or place.eta_s <= previous, (fan_id, previous, place.eta_s)
        model.previous_etas[fan_id] = place.eta_s


def assert_rebuild_equals(room: WaitingRoom, now_ms: int) -> None:
    rebuilt = rebuild_waiting_room(*snapshot_waiting_room(room))
    assert snapshot_waiting_room(rebuilt) == snapshot_waiting_room(room)
    for sequence in range(room.fan_count):
        fan_id = room.fan_index.fan_id(sequence)
        assert view(rebuilt, fan_id, now_ms) == view(room, fan_id, now_ms)
    for command in (ExpireAccess(), AdmitFans()):
        assert decide(rebuilt, command, now_ms) == decide(room, command, now_ms)


@settings(max_examples=300, deadline=None)
@given(
    turns=ticks,
    admit_per_second=st.integers(1, 6),
    max_active_shoppers=st.integers(1, 8),
    draw_seed=st.integers(0, SEED_MAX),
)
def test_invariants_hold_when_commands_arrive_in_any_order(
    turns: list[Tick], admit_per_second: int, max_active_shoppers: int, draw_seed: int
) -> None:
    room = WaitingRoom(
        WaitingRoomSettings(
            event_id=EVENT_ID,
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=admit_per_second,
            max_active_shoppers=max_active_shoppers,
            access_ttl_s=ACCESS_TTL_S_MIN,
        )
    )
    model = Model(now_ms=STARTS_AT_MS, rate=admit_per_second, draw_seed=draw_seed)

    def step(command: WaitingRoomCommand) -> list[WaitingRoomChange]:
        changes = run(room, command, model.now_ms)
        check_invariants(room, model)
        rebuilt = rebuild_waiting_room(*snapshot_waiting_room(room))
        assert snapshot_waiting_room(rebuilt) == snapshot_waiting_room(room)
        return changes

    for turn in turns:
        if room.is_admitting:
            model.earned_milli += model.rate * turn.wait_ms
        model.now_ms += turn.wait_ms
        if not room.is_open and model.now_ms >= OPENS_AT_MS:
            step(OpenWaitingRoom(draw_seed=draw_seed))
        if turn.new_rate is not None:
            model.rate = turn.new_rate
            model.previous_etas.clear()
            step(ChangeWaitingRoomSettings(admit_per_second=turn.new_rate))
        if turn.joining or turn.with_code:
            with_code = [fan_name(number) for number in turn.with_code]
            joining = [fan_name(number) for number in turn.joining] + with_code
            if not room.is_admitting and with_code and model.now_ms < OPENS_AT_MS:
                # The token bucket starts full: the presale line's first fans come in a burst.
                model.earned_milli += model.rate * ADMISSION_BURST_MS
            join_in_model(model, joining, with_code)
            step(JoinFans(fan_ids=joining, presale_fan_ids=with_code))
        if turn.polling:
            step(RecordPolls(fan_ids=[fan_name(number) for number in turn.polling]))
        if turn.ending:
            step(EndAccess(fan_ids=[fan_name(number) for number in turn.ending]))
        if turn.expires:
            access_ttl_ms = ACCESS_TTL_S_MIN * 1_000
            for ended in step(ExpireAccess()):
                assert isinstance(ended, AccessEnded)
                for sequence in ended.sequences:
                    slot = room.slot_of_sequence[sequence]
                    assert room.admitted_at_ms_by_slot[slot] + access_ttl_ms <= model.now_ms
            admitted_code = list(PlaceState).index(PlaceState.ADMITTED)
            for slot in range(room.head_slot):
                if room.states[room.sequence_at_slot[slot]] == admitted_code:
                    assert room.admitted_at_ms_by_slot[slot] + access_ttl_ms > model.now_ms
        if turn.admits:
            for change in step(AdmitFans()):
                assert isinstance(change, FansAdmitted)
                assert len(change.admitted_sequences) <= model.rate * ADMISSION_BURST_MS // 1_000
                abandoned_before_ms = model.now_ms - PLACE_ABANDONED_AFTER_MS
                for sequence in change.abandoned_sequences:
                    assert room.last_seen_ms[sequence] <= abandoned_before_ms
                for sequence in change.admitted_sequences:
                    assert room.last_seen_ms[sequence] > abandoned_before_ms
                model.admitted_total += len(change.admitted_sequences)
    assert_rebuild_equals(room, model.now_ms)


@settings(max_examples=100, deadline=None)
@given(
    live=st.lists(st.booleans(), min_size=1, max_size=40),
    admit_per_second=st.integers(1, 5),
)
def test_live_fans_are_admitted_as_if_alone_when_abandoned_places_sit_among_them(
    live: list[bool], admit_per_second: int
) -> None:
    everyone = [f"fan-{number}" for number in range(len(live))]
    live_fans = [fan for fan, is_live in zip(everyone, live, strict=True) if is_live]

    def admissions_per_tick(fan_ids: list[str]) -> list[list[str]]:
        room = WaitingRoom(
            WaitingRoomSettings(
                event_id=EVENT_ID,
                opens_at_ms=OPENS_AT_MS,
                admit_per_second=admit_per_second,
                max_active_shoppers=admit_per_second,
                access_ttl_s=ACCESS_TTL_S_MIN,
            )
        )
        run(room, OpenWaitingRoom(draw_seed=0), OPENS_AT_MS)
        run(room, JoinFans(fan_ids=fan_ids), OPENS_AT_MS)
        ticks: list[list[str]] = []
        for tick in range(len(everyone) + 1):
            now_ms = OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS + tick * 1_000
            if live_fans:
                run(room, RecordPolls(fan_ids=live_fans), now_ms)
            admitted = [
                room.fan_index.fan_id(sequence)
                for change in run(room, AdmitFans(), now_ms)
                if isinstance(change, FansAdmitted)
                for sequence in change.admitted_sequences
            ]
            if admitted:
                run(room, EndAccess(fan_ids=admitted), now_ms)
            ticks.append(admitted)
        return ticks

    with_abandoned = admissions_per_tick(everyone)
    if live_fans:
        assert with_abandoned == admissions_per_tick(live_fans)
    assert sorted(fan for tick in with_abandoned for fan in tick) == sorted(live_fans)


def test_long_runs_of_abandoned_places_are_passed_over_ticks_when_a_tick_has_a_step_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("engine.waiting_room.decide.PLACES_PASSED_PER_ADMISSION_MAX", 3)
    room = WaitingRoom(
        WaitingRoomSettings(
            event_id=EVENT_ID,
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=1,
            max_active_shoppers=1,
            access_ttl_s=ACCESS_TTL_S_MIN,
        )
    )
    run(room, OpenWaitingRoom(draw_seed=0), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=[f"gone-{number}" for number in range(7)]), OPENS_AT_MS)
    passed: list[tuple[int, int]] = []
    for tick in range(3):
        now_ms = OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS + tick
        if tick == 0:
            run(room, JoinFans(fan_ids=["live"]), now_ms)
        run(room, RecordPolls(fan_ids=["live"]), now_ms)
        (change,) = run(room, AdmitFans(), now_ms)
        assert isinstance(change, FansAdmitted)
        passed.append((len(change.abandoned_sequences), len(change.admitted_sequences)))
    assert passed == [(3, 0), (3, 0), (1, 1)]


@settings(max_examples=50, deadline=None)
@given(draw_seed=st.integers(0, SEED_MAX), pre_queue_size=st.integers(0, 25))
def test_two_rooms_draw_the_same_order_when_given_the_same_seed(
    draw_seed: int, pre_queue_size: int
) -> None:
    def slot_order(join_order: list[str]) -> list[str]:
        room = WaitingRoom(
            WaitingRoomSettings(
                event_id=EVENT_ID,
                opens_at_ms=OPENS_AT_MS,
                admit_per_second=1,
                max_active_shoppers=1,
                access_ttl_s=ACCESS_TTL_S_MIN,
            )
        )
        if join_order:
            run(room, JoinFans(fan_ids=join_order), STARTS_AT_MS)
        run(room, OpenWaitingRoom(draw_seed=draw_seed), OPENS_AT_MS)
        return [
            room.fan_index.fan_id(room.sequence_at_slot[slot]) for slot in range(len(join_order))
        ]

    fans = [f"fan-{number}" for number in range(pre_queue_size)]
    assert slot_order(fans) == slot_order(list(fans))
    assert sorted(slot_order(fans)) == sorted(fans)


def test_clock_stepping_back_earns_no_admissions_when_admitting_again() -> None:
    room = WaitingRoom(
        WaitingRoomSettings(
            event_id=EVENT_ID,
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=1,
            max_active_shoppers=100,
            access_ttl_s=ACCESS_TTL_S_MIN,
        )
    )
    run(room, OpenWaitingRoom(draw_seed=0), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=[f"fan-{number}" for number in range(10)]), OPENS_AT_MS)
    assert len(run(room, AdmitFans(), OPENS_AT_MS + 1_000)) == 1
    assert run(room, AdmitFans(), OPENS_AT_MS) == []
    assert run(room, AdmitFans(), OPENS_AT_MS + 1_999) == []
    assert len(run(room, AdmitFans(), OPENS_AT_MS + 2_000)) == 1
