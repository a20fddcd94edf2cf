"""How fast the fans still in the queue learned of the sell-out: the seconds from the sell-out
(the last payment, as Postgres dates it) to the poll that answered each of them `sold_out`, and
how many were still waiting NOTICE_BOUND_S after it (B6: none).

A fan the driver stopped while still waiting (the server never told them) counts as still
waiting. A fan learns only at its next poll, paced by its ETA, so the room's own side is given
too: the places its stats still count waiting (or before the opening) in the first reading
NOTICE_BOUND_S after the driver saw the sell-out. Pure: the moments are passed in.
"""

import datetime
from collections.abc import Sequence

import msgspec

from onsale.demo.record import percentile

NOTICE_BOUND_S = 2.0


class SoldOutNotice(msgspec.Struct, frozen=True, kw_only=True):
    told: int
    p50_s: float
    p99_s: float
    max_s: float
    still_waiting_after_bound: int
    never_told: int
    room_waiting_after_bound: int | None


def room_waiting_after(
    readings: Sequence[tuple[float, int]], sold_out_seen_at_s: float | None
) -> int | None:
    """The places still waiting in the first (moment, waiting) reading NOTICE_BOUND_S or more
    after `sold_out_seen_at_s`; None without such a reading."""
    if sold_out_seen_at_s is None:
        return None
    for at_s, waiting in readings:
        if at_s >= sold_out_seen_at_s + NOTICE_BOUND_S:
            return waiting
    return None


def measure_sold_out_notice(
    told_at_s: list[float],
    *,
    never_told: int,
    sold_out_at: datetime.datetime | None,
    room_waiting_after_bound: int | None = None,
) -> SoldOutNotice | None:
    """The notice figures, from each told fan's wall-clock moment (seconds since the epoch);
    None when the event did not sell out. A fan told before the moment Postgres dates the
    sell-out (the clocks of the server and the driver differ a little) counts as told at once."""
    if sold_out_at is None:
        return None
    sold_out_s = sold_out_at.timestamp()
    delays_s = sorted(max(0.0, moment - sold_out_s) for moment in told_at_s)
    late = sum(1 for delay_s in delays_s if delay_s > NOTICE_BOUND_S)
    return SoldOutNotice(
        told=len(delays_s),
        p50_s=percentile(delays_s, 0.50),
        p99_s=percentile(delays_s, 0.99),
        max_s=delays_s[-1] if delays_s else 0.0,
        still_waiting_after_bound=late + never_told,
        never_told=never_told,
        room_waiting_after_bound=room_waiting_after_bound,
    )
