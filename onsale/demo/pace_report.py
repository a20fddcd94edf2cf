"""The report's figures of pace and cost: what each part of the run spent in CPU from the opening
to the sell-out (two shared cores: the busiest part bounds the pace), the driver's own CPU per
request, how fast the fans in the queue were told of the sell-out, and the wait list.

Rows only; `report.py` gathers them into the terminal's tables and `html_report.py` into the page.
"""

import msgspec

from onsale.demo.cpu_use import DRIVER_PART, OUTSIDE_PART, SaleCpu
from onsale.demo.sold_out_notice import NOTICE_BOUND_S, SoldOutNotice

CPU_PARTS_SHOWN = 12


class WaitListFigures(msgspec.Struct, frozen=True, kw_only=True):
    joins: int
    offers: int
    conversions: int


def cpu_rows(cpu: SaleCpu, holds: int) -> list[tuple[str, str]]:
    """The driver's cost per request, the system's per hold, then each part's CPU, busiest
    first."""
    system_s = sum(part.cpu_s for part in cpu.parts if part.part not in (DRIVER_PART, OUTSIDE_PART))
    rows = [
        (
            "driver CPU per request",
            f"{cpu.driver_ms_per_request:.2f} ms ({cpu.requests:,} requests in "
            f"{cpu.window_s:,.1f} s, from the opening of the sale to the sell-out)",
        ),
        (
            "system CPU per hold",
            f"{system_s * 1_000 / max(holds, 1):,.0f} ms: every part but the driver, over "
            f"{holds:,} holds, the joins and polls of the sale included",
        ),
    ]
    for part in cpu.parts[:CPU_PARTS_SHOWN]:
        rows.append(
            (
                f"CPU: {part.part}",
                f"{part.cpu_s:,.1f} s, {part.share_of_machine:.0%} of the machine's cores",
            )
        )
    return rows


def notice_rows(notice: SoldOutNotice | None) -> list[tuple[str, str]]:
    if notice is None:
        return [("told sold_out", "n/a: the event did not sell out")]
    return [
        (
            "told sold_out",
            f"{notice.told:,} fans in the queue saw their place answer sold_out; "
            f"{notice.never_told:,} still waiting were stopped by the driver, never told",
        ),
        (
            "seconds to tell them",
            f"p50 {notice.p50_s:.1f} s, p99 {notice.p99_s:.1f} s, max {notice.max_s:.1f} s "
            "after the last payment"
            if notice.told
            else "n/a: no poll answered sold_out",
        ),
        (
            f"still waiting {NOTICE_BOUND_S:.0f} s after the sell-out",
            f"{notice.still_waiting_after_bound:,} fans",
        ),
        (
            f"room: waiting {NOTICE_BOUND_S:.0f} s after the sell-out",
            "n/a: no stats reading then"
            if notice.room_waiting_after_bound is None
            else f"{notice.room_waiting_after_bound:,} places (its stats; the rest sold_out)",
        ),
    ]


def wait_list_rows(wait_list: WaitListFigures) -> list[tuple[str, str]]:
    return [
        (
            "wait list",
            f"{wait_list.joins:,} joined, {wait_list.offers:,} offers, "
            f"{wait_list.conversions:,} bought",
        )
    ]


def pace_rows(
    cpu: SaleCpu, holds: int, notice: SoldOutNotice | None, wait_list: WaitListFigures
) -> list[tuple[str, str]]:
    return cpu_rows(cpu, holds) + notice_rows(notice) + wait_list_rows(wait_list)
