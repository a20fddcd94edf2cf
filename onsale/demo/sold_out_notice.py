"""How fast the fans still in the queue learned of the sell-out: the seconds from the sell-out
(the last payment, as Postgres dates it) to the poll that answered each of them `sold_out`, and
how many were still waiting NOTICE_BOUND_S after it (B6: none).

A fan the driver stopped while still waiting (the server never told them) counts as still
waiting. Pure: the moments are passed in.
"""

import datetime

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


def measure_sold_out_notice(
    told_at_s: list[float], *, never_told: int, sold_out_at: datetime.datetime | None
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
    )
