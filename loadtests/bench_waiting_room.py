"""B3: the waiting room of one event takes 1,000,000 joins; how fast, and how many bytes a fan.

Joins go through `decide` and `apply` in batches, as the WaitingRoomActor receives them from the
gateway. Memory is measured twice: tracemalloc's count of every block the room allocated while
fans joined (the figure checked), and the sum of `sys.getsizeof` over the room's arrays.
"""

import gc
import time
import tracemalloc
import uuid
from collections.abc import Iterator

from engine.waiting_room.apply import apply
from engine.waiting_room.commands import AdmitFans, JoinFans, OpenWaitingRoom
from engine.waiting_room.configuration import WaitingRoomSettings
from engine.waiting_room.decide import decide
from engine.waiting_room.state import WaitingRoom

FANS = 1_000_000
FANS_PER_BATCH = 1_000
JOINS_PER_S_TARGET = 50_000
BYTES_PER_FAN_TARGET = 150
OPENS_AT_MS = 1_000_000
DRAW_SEED = 0x5EED


def new_room() -> WaitingRoom:
    return WaitingRoom(
        WaitingRoomSettings(
            event_id=str(uuid.UUID(int=3)),
            opens_at_ms=OPENS_AT_MS,
            admit_per_second=500,
            max_active_shoppers=5_000,
            access_ttl_s=900,
        )
    )


def fan_batches() -> Iterator[list[str]]:
    """Fan ids shaped like the gateway's JWT subjects (UUID strings), a batch at a time."""
    for first in range(0, FANS, FANS_PER_BATCH):
        yield [str(uuid.UUID(int=number)) for number in range(first, first + FANS_PER_BATCH)]


def join(room: WaitingRoom, fan_ids: list[str], now_ms: int) -> None:
    changes = decide(room, JoinFans(fan_ids=fan_ids), now_ms)
    assert isinstance(changes, list), changes
    for change in changes:
        apply(room, change)


def timed_joins() -> tuple[float, WaitingRoom]:
    batches = list(fan_batches())
    room = new_room()
    changes = decide(room, OpenWaitingRoom(draw_seed=DRAW_SEED), OPENS_AT_MS)
    assert isinstance(changes, list)
    for change in changes:
        apply(room, change)
    gc.collect()
    started = time.perf_counter()
    for number, batch in enumerate(batches):
        join(room, batch, OPENS_AT_MS + number)
    elapsed_s = time.perf_counter() - started
    assert room.fan_count == FANS
    return FANS / elapsed_s, room


def traced_bytes_per_fan() -> float:
    gc.collect()
    tracemalloc.start()
    room = new_room()
    before, _ = tracemalloc.get_traced_memory()
    for number, batch in enumerate(fan_batches()):
        join(room, batch, OPENS_AT_MS - FANS + number)
        del batch
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert room.fan_count == FANS
    return (after - before) / FANS


def timed_draw_and_first_admission(room: WaitingRoom) -> tuple[float, float]:
    started = time.perf_counter()
    changes = decide(room, OpenWaitingRoom(draw_seed=DRAW_SEED), OPENS_AT_MS)
    assert isinstance(changes, list)
    for change in changes:
        apply(room, change)
    drawn_s = time.perf_counter() - started
    started = time.perf_counter()
    admitted = decide(room, AdmitFans(), OPENS_AT_MS + 1_000)
    assert isinstance(admitted, list) and admitted
    for change in admitted:
        apply(room, change)
    return drawn_s, time.perf_counter() - started


def main() -> int:
    joins_per_s, room = timed_joins()
    arrays_bytes_per_fan = room.memory_bytes() / FANS
    del room
    print(f"joined {FANS:,} fans in batches of {FANS_PER_BATCH:,}: {joins_per_s:,.0f} joins/s")
    print(f"sys.getsizeof of the room's arrays: {arrays_bytes_per_fan:.1f} bytes/fan")
    traced_per_fan = traced_bytes_per_fan()
    print(f"tracemalloc, everything the room allocated: {traced_per_fan:.1f} bytes/fan")
    pre_queue_room = new_room()
    batch_count = FANS // FANS_PER_BATCH
    for number, batch in enumerate(fan_batches()):
        join(pre_queue_room, batch, OPENS_AT_MS - batch_count + number)
    drawn_s, admitted_s = timed_draw_and_first_admission(pre_queue_room)
    print(f"opening draw of a {FANS:,}-fan pre-queue: {drawn_s:.2f} s")
    print(f"first admission tick after it: {admitted_s * 1_000:.2f} ms")
    met = joins_per_s >= JOINS_PER_S_TARGET and traced_per_fan <= BYTES_PER_FAN_TARGET
    verdict = "ok" if met else "short"
    print(
        f"B3 joins_per_s={joins_per_s:.0f} bytes_per_fan={traced_per_fan:.1f} "
        f"target={JOINS_PER_S_TARGET}/{BYTES_PER_FAN_TARGET} {verdict}"
    )
    return 0 if met else 1
