"""What a poll reads from Redis agrees with the room itself: for rooms driven through random joins
(some with a presale code), admissions and the draw, the published record of every place, read
against the published room, is the place the engine describes, and the changes of each step
republish every place whose record they alter."""

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.waiting_room_publication import decode_place, decode_room, encode_record, view_of
from actors.waiting_room_publisher import published_place, published_room, published_sequences
from engine.pre_queue_draw import SEED_MAX
from engine.rejections import Rejected
from engine.waiting_room.apply import apply
from engine.waiting_room.commands import (
    AdmitFans,
    JoinFans,
    OpenWaitingRoom,
    RecordPolls,
    WaitingRoomCommand,
)
from engine.waiting_room.configuration import WaitingRoomSettings
from engine.waiting_room.decide import decide
from engine.waiting_room.state import WaitingRoom
from engine.waiting_room.views import PlaceView, describe_place, queue_id_for

SECRET = b"s" * 32
EVENT_ID = "7e1f6f0a-3c55-4b1e-9d2b-5a4c3b2a1f00"
OPENS_AT_MS = 5_000_000

fans = st.lists(st.integers(0, 15).map(lambda number: f"fan-{number}"), min_size=1, max_size=4)
commands = st.one_of(
    fans.map(lambda fan_ids: JoinFans(fan_ids=fan_ids)),
    fans.map(lambda fan_ids: JoinFans(fan_ids=fan_ids, presale_fan_ids=fan_ids[:1])),
    fans.map(lambda fan_ids: RecordPolls(fan_ids=fan_ids)),
    st.just(AdmitFans()),
    st.integers(0, SEED_MAX).map(lambda seed: OpenWaitingRoom(draw_seed=seed)),
)
steps = st.lists(st.tuples(st.sampled_from([0, 400, 1_000, 3_000]), commands), max_size=30)


def published_view(room: WaitingRoom, sequence: int, now_ms: int) -> PlaceView:
    """The place as a poll answers it from the records the actor writes."""
    place = decode_place(encode_record(published_place(room, sequence, SECRET)))
    record = decode_room(encode_record(published_room(room, epoch=1, now_ms=now_ms)))
    return view_of(queue_id_for(EVENT_ID, sequence), place, record, now_ms)


@settings(max_examples=150, deadline=None)
@given(steps=steps)
def test_polls_read_from_redis_show_the_engine_place_when_a_presale_runs_before_the_draw(
    steps: list[tuple[int, WaitingRoomCommand]],
) -> None:
    room = WaitingRoom(
        WaitingRoomSettings(
            event_id=EVENT_ID,
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=2,
            max_active_shoppers=3,
            access_ttl_s=900,
        )
    )
    published = {}
    now_ms = OPENS_AT_MS - 8_000
    for wait_ms, command in steps:
        now_ms += wait_ms
        outcome = decide(room, command, now_ms)
        if isinstance(outcome, Rejected):
            continue
        for change in outcome:
            apply(room, change)
        for sequence in published_sequences(outcome, room):
            published[sequence] = published_place(room, sequence, SECRET)
        for sequence in range(room.fan_count):
            fan_id = room.fan_index.fan_id(sequence)
            assert published[sequence] == published_place(room, sequence, SECRET), sequence
            assert published_view(room, sequence, now_ms) == describe_place(
                room, fan_id, now_ms, access_secret=SECRET
            )
