"""Every waiting-room command and rejection, one behaviour per test, time passed in."""

import re

import msgspec
import pytest

from engine.access_tokens import AccessGrant, verify_access_token
from engine.limits import (
    FAN_ID_CHARACTERS_MAX,
    FANS_PER_END_ACCESS_COMMAND_MAX,
    FANS_PER_JOIN_COMMAND_MAX,
    FANS_PER_POLL_COMMAND_MAX,
    PLACE_ABANDONED_AFTER_MS,
)
from engine.pre_queue_draw import SEED_MAX, draw_pre_queue_order
from engine.rejections import Reason, Rejected
from engine.stock import Stock
from engine.waiting_room import apply as waiting_room
from engine.waiting_room.changes import (
    AccessEnded,
    AccessEndReason,
    FansAdmitted,
    FansJoined,
    PlacesSeen,
    PreQueueDrawn,
    WaitingRoomChange,
    WaitingRoomSettingsChanged,
)
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
from engine.waiting_room.configuration import WaitingRoomSettings, validate_settings
from engine.waiting_room.decide import decide
from engine.waiting_room.rows import rebuild_waiting_room, snapshot_waiting_room
from engine.waiting_room.state import PLACE_TRANSITIONS, PlaceState, WaitingRoom
from engine.waiting_room.views import (
    PlaceView,
    QueueCounts,
    count_places,
    describe_place,
    queue_id_for,
)

SECRET = b"k" * 32
EVENT_ID = "0b9d7f34-1c1e-4d55-8f0e-2b8e3c4d5a6f"
OPENS_AT_MS = 100_000
ACCESS_TTL_S = 900
ACCESS_TTL_MS = ACCESS_TTL_S * 1_000


def make_room(**overrides: int) -> WaitingRoom:
    values: dict[str, int] = {
        "opens_at_ms": OPENS_AT_MS,
        "admit_per_second": 2,
        "max_active_shoppers": 100,
        "access_ttl_s": ACCESS_TTL_S,
    }
    values.update(overrides)
    return WaitingRoom(WaitingRoomSettings(event_id=EVENT_ID, **values))


def run(room: WaitingRoom, command: WaitingRoomCommand, now_ms: int) -> list[WaitingRoomChange]:
    outcome = decide(room, command, now_ms)
    assert not isinstance(outcome, Rejected), outcome
    for change in outcome:
        waiting_room.apply(room, change)
    return outcome


def rejection(room: WaitingRoom, command: WaitingRoomCommand, now_ms: int) -> Rejected:
    before = snapshot_waiting_room(room)
    outcome = decide(room, command, now_ms)
    assert isinstance(outcome, Rejected), outcome
    assert snapshot_waiting_room(room) == before
    return outcome


def view(room: WaitingRoom, fan_id: str, now_ms: int) -> PlaceView:
    outcome = describe_place(room, fan_id, now_ms, access_secret=SECRET)
    assert isinstance(outcome, PlaceView), outcome
    return outcome


def verify(room: WaitingRoom, fan_id: str, now_ms: int) -> AccessGrant:
    """What the fan's access token, as its place shows it, proves."""
    token = view(room, fan_id, now_ms).access_token
    assert token is not None, fan_id
    grant = verify_access_token(
        secret=SECRET, token=token, event_id=EVENT_ID, fan_id=fan_id, now_ms=now_ms
    )
    assert isinstance(grant, AccessGrant), grant
    return grant


def open_room_with(fan_ids: list[str], now_ms: int = OPENS_AT_MS) -> WaitingRoom:
    """A room opened with no pre-queue, then joined by these fans in this order."""
    room = make_room()
    run(room, OpenWaitingRoom(draw_seed=1), now_ms)
    run(room, JoinFans(fan_ids=fan_ids), now_ms)
    return room


def fans(count: int, prefix: str = "fan") -> list[str]:
    return [f"{prefix}-{number}" for number in range(count)]


# Joining


def test_first_fan_waits_at_position_zero_when_joining_an_open_room() -> None:
    room = open_room_with(["ana"])
    assert view(room, "ana", OPENS_AT_MS) == PlaceView(
        queue_id=queue_id_for(EVENT_ID, 0),
        state=PlaceState.WAITING,
        position=0,
        eta_s=1,
        access_token=None,
        inventory=Stock.AVAILABLE,
    )


def test_same_place_is_returned_when_a_fan_joins_again() -> None:
    room = open_room_with(["ana", "ben"])
    first = view(room, "ben", OPENS_AT_MS)
    changes = run(room, JoinFans(fan_ids=["ben"]), OPENS_AT_MS + 5)
    assert changes == [PlacesSeen(seen_at_ms=OPENS_AT_MS + 5, sequences=[1])]
    assert view(room, "ben", OPENS_AT_MS + 5) == first
    assert room.fan_count == 2


def test_one_place_is_given_when_a_fan_appears_twice_in_one_batch() -> None:
    room = make_room()
    changes = run(room, JoinFans(fan_ids=["ana", "ben", "ana"]), 0)
    assert changes == [
        FansJoined(joined_at_ms=0, first_sequence=0, fan_ids=["ana", "ben"], into_pre_queue=True)
    ]
    assert room.fan_count == 2


def test_place_is_in_pre_queue_without_position_when_joined_before_opening() -> None:
    room = make_room()
    run(room, JoinFans(fan_ids=["ana"]), OPENS_AT_MS - 1)
    place = view(room, "ana", OPENS_AT_MS - 1)
    assert (place.state, place.position, place.eta_s) == (PlaceState.PRE_QUEUE, None, None)
    assert count_places(room) == QueueCounts(
        pre_queue=1, waiting=0, admitted=0, admit_per_second=2, sold_out=0
    )


def test_later_fans_queue_behind_the_pre_queue_when_joining_after_opens_at_before_the_draw() -> (
    None
):
    room = make_room()
    run(room, JoinFans(fan_ids=fans(3)), OPENS_AT_MS - 1)
    run(room, JoinFans(fan_ids=["late-1", "late-2"]), OPENS_AT_MS)
    assert [view(room, fan, OPENS_AT_MS).position for fan in ("late-1", "late-2")] == [3, 4]
    assert view(room, "late-1", OPENS_AT_MS).state is PlaceState.WAITING
    run(room, OpenWaitingRoom(draw_seed=5), OPENS_AT_MS + 1)
    assert [view(room, fan, OPENS_AT_MS + 1).position for fan in ("late-1", "late-2")] == [3, 4]


def test_pre_queue_closes_when_a_fan_joined_after_opens_at_even_if_the_clock_steps_back() -> None:
    room = make_room()
    run(room, JoinFans(fan_ids=["on-time"]), OPENS_AT_MS)
    changes = run(room, JoinFans(fan_ids=["clock-behind"]), OPENS_AT_MS - 50)
    assert isinstance(changes[0], FansJoined) and not changes[0].into_pre_queue
    assert view(room, "clock-behind", OPENS_AT_MS).position == 1


def test_validation_error_when_the_join_batch_is_empty() -> None:
    outcome = rejection(make_room(), JoinFans(fan_ids=[]), 0)
    assert outcome.reason is Reason.VALIDATION_ERROR


def test_validation_error_when_the_join_batch_is_too_large() -> None:
    outcome = rejection(make_room(), JoinFans(fan_ids=fans(FANS_PER_JOIN_COMMAND_MAX + 1)), 0)
    assert outcome.reason is Reason.VALIDATION_ERROR


@pytest.mark.parametrize("fan_id", ["", "x" * (FAN_ID_CHARACTERS_MAX + 1)])
def test_validation_error_when_a_fan_id_is_empty_or_too_long(fan_id: str) -> None:
    outcome = rejection(make_room(), JoinFans(fan_ids=["ana", fan_id]), 0)
    assert outcome.reason is Reason.VALIDATION_ERROR
    assert outcome.details == {"fan_id": fan_id}


def test_busy_when_the_room_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.waiting_room.decide.WAITING_ROOM_FANS_MAX", 3)
    room = make_room()
    run(room, JoinFans(fan_ids=fans(2)), 0)
    outcome = rejection(room, JoinFans(fan_ids=["x", "y"]), 0)
    assert outcome.reason is Reason.BUSY
    assert run(room, JoinFans(fan_ids=["fan-0", "x"]), 0)


# Opening and the draw


def test_pre_queue_is_ordered_by_the_seeded_draw_when_the_room_opens() -> None:
    room = make_room()
    run(room, JoinFans(fan_ids=fans(8)), 0)
    changes = run(room, OpenWaitingRoom(draw_seed=77), OPENS_AT_MS)
    assert changes == [PreQueueDrawn(opened_at_ms=OPENS_AT_MS, draw_seed=77, pre_queue_count=8)]
    positions = {fan: view(room, fan, OPENS_AT_MS).position for fan in fans(8)}
    drawn = [f"fan-{sequence}" for sequence in draw_pre_queue_order(77, 8)]
    assert sorted(positions, key=lambda fan: positions[fan]) == drawn
    assert all(view(room, fan, OPENS_AT_MS).state is PlaceState.WAITING for fan in fans(8))


def test_sale_not_open_when_opening_before_opens_at() -> None:
    outcome = rejection(make_room(), OpenWaitingRoom(draw_seed=1), OPENS_AT_MS - 1)
    assert outcome.reason is Reason.SALE_NOT_OPEN


def test_validation_error_when_opening_a_room_that_is_already_open() -> None:
    room = open_room_with(["ana"])
    assert rejection(room, OpenWaitingRoom(draw_seed=2), OPENS_AT_MS).reason is (
        Reason.VALIDATION_ERROR
    )


@pytest.mark.parametrize("draw_seed", [-1, SEED_MAX + 1])
def test_validation_error_when_the_draw_seed_does_not_fit_in_64_bits(draw_seed: int) -> None:
    outcome = rejection(make_room(), OpenWaitingRoom(draw_seed=draw_seed), OPENS_AT_MS)
    assert outcome.reason is Reason.VALIDATION_ERROR


# Admission


def test_nobody_is_admitted_when_the_room_has_not_opened() -> None:
    room = make_room()
    run(room, JoinFans(fan_ids=fans(3)), OPENS_AT_MS)
    assert run(room, AdmitFans(), OPENS_AT_MS + 60_000) == []


def test_fans_are_admitted_at_the_rate_in_queue_order_when_time_passes() -> None:
    room = open_room_with(fans(5))
    assert run(room, AdmitFans(), OPENS_AT_MS) == []
    changes = run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    assert changes == [
        FansAdmitted(
            admitted_at_ms=OPENS_AT_MS + 1_000,
            first_slot=0,
            admitted_sequences=[0, 1],
            abandoned_sequences=[],
            admission_credit_milli=0,
            access_expires_at_ms=OPENS_AT_MS + 1_000 + ACCESS_TTL_MS,
        )
    ]
    assert [view(room, fan, OPENS_AT_MS + 1_000).position for fan in fans(5)] == [
        None,
        None,
        0,
        1,
        2,
    ]
    assert run(room, AdmitFans(), OPENS_AT_MS + 1_499) == []
    admitted = run(room, AdmitFans(), OPENS_AT_MS + 1_500)
    assert isinstance(admitted[0], FansAdmitted)
    assert admitted[0].admitted_sequences == [2]


def test_admissions_burst_no_more_than_one_second_of_rate_when_the_room_was_idle() -> None:
    room = open_room_with(fans(50))
    changes = run(room, AdmitFans(), OPENS_AT_MS + 60_000)
    assert isinstance(changes[0], FansAdmitted)
    assert changes[0].admitted_sequences == [0, 1]


def test_admissions_stop_at_the_active_cap_when_shoppers_are_still_active() -> None:
    room = make_room(max_active_shoppers=3, admit_per_second=100)
    run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=fans(10)), OPENS_AT_MS)
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    assert room.active_shopper_count == 3
    assert run(room, AdmitFans(), OPENS_AT_MS + 2_000) == []
    run(room, EndAccess(fan_ids=["fan-1"]), OPENS_AT_MS + 2_000)
    changes = run(room, AdmitFans(), OPENS_AT_MS + 2_000)
    assert isinstance(changes[0], FansAdmitted)
    assert changes[0].admitted_sequences == [3]


def test_abandoned_places_are_skipped_without_spending_the_rate_when_fans_stopped_polling() -> None:
    room = open_room_with(fans(4))
    later_ms = OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS
    run(room, RecordPolls(fan_ids=["fan-2", "fan-3"]), later_ms)
    changes = run(room, AdmitFans(), later_ms)
    assert changes == [
        FansAdmitted(
            admitted_at_ms=later_ms,
            first_slot=0,
            admitted_sequences=[2, 3],
            abandoned_sequences=[0, 1],
            admission_credit_milli=0,
            access_expires_at_ms=later_ms + ACCESS_TTL_MS,
        )
    ]
    assert view(room, "fan-0", later_ms).state is PlaceState.EXPIRED
    assert view(room, "fan-3", later_ms).state is PlaceState.ADMITTED


def test_abandoned_places_at_the_head_are_passed_when_the_active_cap_is_full() -> None:
    room = make_room(max_active_shoppers=1)
    run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=fans(3)), OPENS_AT_MS)
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    later_ms = OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS + 1_000
    run(room, RecordPolls(fan_ids=["fan-0", "fan-2"]), later_ms)
    changes = run(room, AdmitFans(), later_ms)
    assert isinstance(changes[0], FansAdmitted)
    assert (changes[0].admitted_sequences, changes[0].abandoned_sequences) == ([], [1])
    assert view(room, "fan-2", later_ms).position == 0


# Polls


def test_polled_fan_keeps_the_place_when_others_are_abandoned() -> None:
    room = open_room_with(["ana", "ben"])
    run(room, RecordPolls(fan_ids=["ben", "nobody"]), OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS)
    assert room.last_seen_ms[1] == OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS
    assert room.last_seen_ms[0] == OPENS_AT_MS


def test_no_change_when_only_unknown_fans_poll() -> None:
    assert run(open_room_with(["ana"]), RecordPolls(fan_ids=["nobody"]), OPENS_AT_MS) == []


def test_last_seen_does_not_go_back_when_a_poll_carries_an_older_time() -> None:
    room = open_room_with(["ana"], now_ms=OPENS_AT_MS + 500)
    run(room, RecordPolls(fan_ids=["ana"]), OPENS_AT_MS)
    assert room.last_seen_ms[0] == OPENS_AT_MS + 500


def test_validation_error_when_the_poll_batch_is_too_large() -> None:
    outcome = rejection(make_room(), RecordPolls(fan_ids=fans(FANS_PER_POLL_COMMAND_MAX + 1)), 0)
    assert outcome.reason is Reason.VALIDATION_ERROR


# Expiry and the end of access


def test_access_expires_when_the_ttl_has_run_out() -> None:
    room = open_room_with(fans(2))
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    expires_at_ms = OPENS_AT_MS + 1_000 + ACCESS_TTL_MS
    assert run(room, ExpireAccess(), expires_at_ms - 1) == []
    assert view(room, "fan-0", expires_at_ms - 1).state is PlaceState.ADMITTED
    assert view(room, "fan-0", expires_at_ms).state is PlaceState.EXPIRED
    changes = run(room, ExpireAccess(), expires_at_ms)
    assert changes == [
        AccessEnded(
            ended_at_ms=expires_at_ms,
            sequences=[0, 1],
            reason=AccessEndReason.ACCESS_TTL_ELAPSED,
        )
    ]
    assert room.active_shopper_count == 0
    assert view(room, "fan-0", expires_at_ms).access_token is None


def test_expiry_passes_over_fans_who_finished_when_older_admissions_end() -> None:
    room = open_room_with(fans(4))
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    run(room, AdmitFans(), OPENS_AT_MS + 2_000)
    run(room, EndAccess(fan_ids=["fan-1"]), OPENS_AT_MS + 2_000)
    changes = run(room, ExpireAccess(), OPENS_AT_MS + 2_000 + ACCESS_TTL_MS)
    assert isinstance(changes[0], AccessEnded)
    assert changes[0].sequences == [0, 2, 3]
    assert room.expiry_cursor == room.head_slot


def test_access_ends_when_the_shell_reports_the_fan_finished() -> None:
    room = open_room_with(fans(2))
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    changes = run(room, EndAccess(fan_ids=["fan-0", "fan-0"]), OPENS_AT_MS + 1_200)
    assert changes == [
        AccessEnded(ended_at_ms=OPENS_AT_MS + 1_200, sequences=[0], reason=AccessEndReason.FINISHED)
    ]
    assert view(room, "fan-0", OPENS_AT_MS + 1_200).state is PlaceState.EXPIRED
    assert room.active_shopper_count == 1


def test_no_change_when_ending_access_of_fans_who_were_not_admitted() -> None:
    room = open_room_with(fans(3))
    assert run(room, EndAccess(fan_ids=["fan-2", "nobody"]), OPENS_AT_MS) == []


def test_validation_error_when_the_end_access_batch_is_too_large() -> None:
    command = EndAccess(fan_ids=fans(FANS_PER_END_ACCESS_COMMAND_MAX + 1))
    assert rejection(make_room(), command, 0).reason is Reason.VALIDATION_ERROR


# The rate


def test_new_rate_applies_from_the_change_when_the_rate_is_raised() -> None:
    room = open_room_with(fans(20))
    changes = run(room, ChangeWaitingRoomSettings(admit_per_second=10), OPENS_AT_MS + 500)
    assert changes == [
        WaitingRoomSettingsChanged(
            changed_at_ms=OPENS_AT_MS + 500,
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=10,
            max_active_shoppers=100,
            access_ttl_s=ACCESS_TTL_S,
            admission_credit_milli=1_000,
        )
    ]
    admitted = run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    assert isinstance(admitted[0], FansAdmitted)
    assert len(admitted[0].admitted_sequences) == 6
    assert view(room, "fan-19", OPENS_AT_MS + 1_000).eta_s == 2


def test_saved_credit_shrinks_to_the_new_burst_when_the_rate_is_lowered() -> None:
    room = make_room(admit_per_second=10)
    run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS)
    changes = run(room, ChangeWaitingRoomSettings(admit_per_second=1), OPENS_AT_MS + 5_000)
    assert isinstance(changes[0], WaitingRoomSettingsChanged)
    assert changes[0].admission_credit_milli == 1_000


def test_rate_change_before_opening_sets_the_rate_without_credit() -> None:
    room = make_room()
    run(room, ChangeWaitingRoomSettings(admit_per_second=7), 0)
    assert room.settings.admit_per_second == 7
    run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=fans(10)), OPENS_AT_MS)
    changes = run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    assert isinstance(changes[0], FansAdmitted)
    assert len(changes[0].admitted_sequences) == 7


@pytest.mark.parametrize("admit_per_second", [0, -3, 100_001])
def test_validation_error_when_the_new_rate_is_out_of_bounds(admit_per_second: int) -> None:
    command = ChangeWaitingRoomSettings(admit_per_second=admit_per_second)
    assert rejection(make_room(), command, 0).reason is Reason.VALIDATION_ERROR


# The other settings


def test_nobody_is_admitted_until_enough_leave_when_the_cap_is_lowered_below_the_shoppers() -> None:
    room = make_room(max_active_shoppers=10, admit_per_second=100)
    run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=fans(12)), OPENS_AT_MS)
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    assert room.active_shopper_count == 10

    run(room, ChangeWaitingRoomSettings(max_active_shoppers=3), OPENS_AT_MS + 1_000)
    assert run(room, AdmitFans(), OPENS_AT_MS + 2_000) == []
    run(room, EndAccess(fan_ids=fans(7)), OPENS_AT_MS + 2_000)
    assert run(room, AdmitFans(), OPENS_AT_MS + 2_000) == []
    run(room, EndAccess(fan_ids=["fan-7"]), OPENS_AT_MS + 2_000)
    changes = run(room, AdmitFans(), OPENS_AT_MS + 2_000)

    assert isinstance(changes[0], FansAdmitted)
    assert changes[0].admitted_sequences == [10]
    assert room.active_shopper_count == 3


def test_abandoned_places_are_passed_when_the_cap_is_lowered_below_the_shoppers() -> None:
    room = make_room(max_active_shoppers=5, admit_per_second=100)
    run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=fans(8)), OPENS_AT_MS)
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    run(room, ChangeWaitingRoomSettings(max_active_shoppers=1), OPENS_AT_MS + 1_000)
    later_ms = OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS + 1_000

    changes = run(room, AdmitFans(), later_ms)

    assert changes == [
        FansAdmitted(
            admitted_at_ms=later_ms,
            first_slot=5,
            admitted_sequences=[],
            abandoned_sequences=[5, 6, 7],
            admission_credit_milli=100_000,
            access_expires_at_ms=later_ms + ACCESS_TTL_MS,
        )
    ]
    assert room.active_shopper_count == 5


def test_new_access_ttl_applies_to_accesses_granted_after_the_change() -> None:
    room = open_room_with(fans(4))
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    run(room, ChangeWaitingRoomSettings(access_ttl_s=60), OPENS_AT_MS + 1_000)
    run(room, AdmitFans(), OPENS_AT_MS + 2_000)
    early_expiry_ms = OPENS_AT_MS + 1_000 + ACCESS_TTL_MS
    late_expiry_ms = OPENS_AT_MS + 2_000 + 60_000

    early = verify(room, "fan-0", OPENS_AT_MS + 2_000)
    late = verify(room, "fan-2", OPENS_AT_MS + 2_000)

    assert (early.expires_at_ms, late.expires_at_ms) == (early_expiry_ms, late_expiry_ms)
    assert view(room, "fan-2", late_expiry_ms).state is PlaceState.EXPIRED
    assert view(room, "fan-0", late_expiry_ms).state is PlaceState.ADMITTED
    rebuilt = rebuild_waiting_room(*snapshot_waiting_room(room))
    assert verify(rebuilt, "fan-0", OPENS_AT_MS + 2_000) == early
    assert verify(rebuilt, "fan-2", OPENS_AT_MS + 2_000) == late


def test_accesses_end_in_admission_order_when_a_shorter_ttl_ran_out_first() -> None:
    room = open_room_with(fans(4))
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    run(room, ChangeWaitingRoomSettings(access_ttl_s=60), OPENS_AT_MS + 1_000)
    run(room, AdmitFans(), OPENS_AT_MS + 2_000)

    assert run(room, ExpireAccess(), OPENS_AT_MS + 2_000 + 60_000) == []
    ended = run(room, ExpireAccess(), OPENS_AT_MS + 1_000 + ACCESS_TTL_MS)

    assert [change.sequences for change in ended if isinstance(change, AccessEnded)] == [
        [0, 1, 2, 3]
    ]
    assert room.active_shopper_count == 0


def test_opening_moves_when_opens_at_changes_before_the_room_opened() -> None:
    room = make_room()
    run(room, JoinFans(fan_ids=["early"]), OPENS_AT_MS - 10)

    run(room, ChangeWaitingRoomSettings(opens_at_ms=OPENS_AT_MS + 60_000), OPENS_AT_MS - 5)
    run(room, JoinFans(fan_ids=["still-early"]), OPENS_AT_MS + 1_000)
    refusal = rejection(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS + 1_000)
    opened = run(room, OpenWaitingRoom(draw_seed=1), OPENS_AT_MS + 60_000)

    assert refusal.reason is Reason.SALE_NOT_OPEN
    assert opened == [
        PreQueueDrawn(opened_at_ms=OPENS_AT_MS + 60_000, draw_seed=1, pre_queue_count=2)
    ]


def test_opening_stays_when_opens_at_changes_after_the_room_opened() -> None:
    room = open_room_with(fans(2))
    changes = run(
        room,
        ChangeWaitingRoomSettings(opens_at_ms=OPENS_AT_MS + 60_000, access_ttl_s=120),
        OPENS_AT_MS + 10,
    )
    assert isinstance(changes[0], WaitingRoomSettingsChanged)
    assert (room.settings.opens_at_ms, room.settings.access_ttl_s) == (OPENS_AT_MS, 120)
    assert run(room, ChangeWaitingRoomSettings(opens_at_ms=OPENS_AT_MS - 1), OPENS_AT_MS) == []


def test_no_change_when_the_settings_are_what_they_were() -> None:
    room = make_room()
    command = ChangeWaitingRoomSettings(
        admit_per_second=2, max_active_shoppers=100, access_ttl_s=ACCESS_TTL_S
    )
    assert run(room, command, 0) == []
    assert run(room, ChangeWaitingRoomSettings(), 0) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_active_shoppers", 0), ("access_ttl_s", 59), ("access_ttl_s", 7_201)],
)
def test_validation_error_naming_the_field_when_a_new_setting_is_out_of_bounds(
    field: str, value: int
) -> None:
    command = msgspec.structs.replace(ChangeWaitingRoomSettings(), **{field: value})
    outcome = rejection(make_room(), command, 0)
    assert outcome.reason is Reason.VALIDATION_ERROR
    assert outcome.details == {"field": field}


# Views, counts and settings


def test_not_found_when_describing_a_fan_without_a_place() -> None:
    outcome = describe_place(make_room(), "nobody", 0, access_secret=SECRET)
    assert isinstance(outcome, Rejected)
    assert outcome.reason is Reason.NOT_FOUND


def test_admitted_view_carries_a_token_for_this_fan_and_event_when_admitted() -> None:
    room = open_room_with(["ana"])
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    place = view(room, "ana", OPENS_AT_MS + 2_000)
    assert (place.state, place.position, place.eta_s) == (PlaceState.ADMITTED, None, None)
    assert place.access_token is not None
    grant = verify_access_token(
        secret=SECRET,
        token=place.access_token,
        event_id=EVENT_ID,
        fan_id="ana",
        now_ms=OPENS_AT_MS + 2_000,
    )
    assert grant == AccessGrant(
        event_id=EVENT_ID, fan_id="ana", expires_at_ms=OPENS_AT_MS + 1_000 + ACCESS_TTL_MS
    )


def test_eta_counts_seconds_of_rate_when_fans_are_ahead() -> None:
    room = open_room_with(fans(7))
    assert [view(room, fan, OPENS_AT_MS).eta_s for fan in fans(7)] == [1, 1, 2, 2, 3, 3, 4]


def test_counts_show_waiting_and_admitted_when_the_room_is_open() -> None:
    room = open_room_with(fans(5))
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    assert count_places(room) == QueueCounts(
        pre_queue=0, waiting=3, admitted=2, admit_per_second=2, sold_out=0
    )


def test_queue_ids_are_stable_distinct_uuids_when_derived_from_event_and_sequence() -> None:
    uuid_shape = re.compile(
        r"^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
    )
    identifiers = [queue_id_for(EVENT_ID, sequence) for sequence in range(1_000)]
    assert all(uuid_shape.match(identifier) for identifier in identifiers)
    assert len(set(identifiers)) == 1_000
    assert queue_id_for(EVENT_ID, 5) == identifiers[5] != queue_id_for("other", 5)


def test_settings_pass_when_within_limits() -> None:
    assert validate_settings(make_room().settings) is None


@pytest.mark.parametrize(
    "field, value",
    [("admit_per_second", 0), ("max_active_shoppers", 0), ("access_ttl_s", 10**6)],
)
def test_validation_error_when_a_setting_is_out_of_bounds(field: str, value: int) -> None:
    settings = msgspec.structs.replace(make_room().settings, **{field: value})
    outcome = validate_settings(settings)
    assert isinstance(outcome, Rejected)
    assert outcome.details == {"field": field}


# The state table


@pytest.mark.parametrize(
    "source, target",
    [(source, target) for source in PlaceState for target in PlaceState],
)
def test_state_changes_only_along_the_table_when_a_place_moves(
    source: PlaceState, target: PlaceState
) -> None:
    room = make_room()
    run(room, JoinFans(fan_ids=["ana"]), 0)
    room.states[0] = list(PlaceState).index(source)
    target_code = list(PlaceState).index(target)
    if target in PLACE_TRANSITIONS[source]:
        waiting_room._set_state(room, 0, target_code)
        assert room.states[0] == target_code
    else:
        with pytest.raises(AssertionError):
            waiting_room._set_state(room, 0, target_code)


def test_every_allowed_transition_happens_when_a_room_runs_through_its_life() -> None:
    room = make_room(max_active_shoppers=10)
    run(room, JoinFans(fan_ids=fans(3)), 0)
    observed: set[tuple[PlaceState, PlaceState]] = set()
    previous = [view(room, fan, 0).state for fan in fans(3)]
    steps: list[tuple[WaitingRoomCommand, int]] = [
        (OpenWaitingRoom(draw_seed=3), OPENS_AT_MS),
        (RecordPolls(fan_ids=fans(3)[:2]), OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS),
        (AdmitFans(), OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS),
        (ExpireAccess(), OPENS_AT_MS + PLACE_ABANDONED_AFTER_MS + ACCESS_TTL_MS),
    ]
    for command, now_ms in steps:
        run(room, command, now_ms)
        current = [PlaceState(list(PlaceState)[room.states[sequence]]) for sequence in range(3)]
        observed.update((before, after) for before, after in zip(previous, current, strict=True))
        previous = current
    allowed = {
        (source, target) for source, targets in PLACE_TRANSITIONS.items() for target in targets
    }
    assert allowed <= observed


# Rebuild


def test_rebuilt_room_equals_the_original_when_rebuilt_from_its_rows() -> None:
    room = make_room(admit_per_second=3)
    run(room, JoinFans(fan_ids=fans(6)), 0)
    run(room, OpenWaitingRoom(draw_seed=42), OPENS_AT_MS)
    run(room, JoinFans(fan_ids=fans(4, "late")), OPENS_AT_MS + 10)
    run(room, AdmitFans(), OPENS_AT_MS + 1_000)
    run(room, AdmitFans(), OPENS_AT_MS + 1_400)
    assert room.admission_credit_milli == 200
    run(room, EndAccess(fan_ids=[room.fan_index.fan_id(room.sequence_at_slot[0])]), OPENS_AT_MS)
    rebuilt = rebuild_waiting_room(*snapshot_waiting_room(room))
    assert snapshot_waiting_room(rebuilt) == snapshot_waiting_room(room)
    for fan_id in fans(6) + fans(4, "late"):
        assert view(rebuilt, fan_id, OPENS_AT_MS + 1_000) == view(room, fan_id, OPENS_AT_MS + 1_000)
    assert rebuilt.active_shopper_count == room.active_shopper_count == 3
    assert run(rebuilt, AdmitFans(), OPENS_AT_MS + 2_000) == run(
        room, AdmitFans(), OPENS_AT_MS + 2_000
    )
