"""How fairly the waiting room let fans in, from the order fans arrived in and the moments the
system recorded their admissions.

API.md promises two orders. Fans who join before the sale opens get uniformly random places,
so their admission order should not follow their arrival order (a rank correlation near 0:
arriving early with a script gains nothing). Fans who join later queue first come, first
served, so their admission order should follow their arrival (a rank correlation near 1, and
few fans overtaken by someone who arrived after them). Fans admitted in the same tick tie.
"""

import math

import msgspec


class Admission(msgspec.Struct, frozen=True, kw_only=True):
    """One admitted fan: its arrival rank (0 = first to join) and when the system admitted it."""

    arrival: int
    pre_queued: bool
    admitted_at_ms: int
    presale: bool = False


class Fairness(msgspec.Struct, frozen=True, kw_only=True):
    """How admission order followed arrival, for the pre-queue (drawn at random at the opening)
    and the queue behind it (first come, first served); the presale line, admitted in its own
    order before the opening, is counted apart."""

    presale_admitted: int
    pre_queued_admitted: int
    pre_queue_rank_correlation: float | None
    later_admitted: int
    later_rank_correlation: float | None
    later_overtaken_share: float | None


def average_ranks(values: list[float]) -> list[float]:
    """Ranks from 1, ties given the mean of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        rank = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = rank
        start = end + 1
    return ranks


def rank_correlation(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rho with tied ranks averaged; None when either side does not vary."""
    assert len(xs) == len(ys)
    if len(xs) < 2:
        return None
    x_ranks, y_ranks = average_ranks(xs), average_ranks(ys)
    x_mean, y_mean = sum(x_ranks) / len(xs), sum(y_ranks) / len(ys)
    covariance = sum((x - x_mean) * (y - y_mean) for x, y in zip(x_ranks, y_ranks, strict=True))
    x_spread = math.sqrt(sum((x - x_mean) ** 2 for x in x_ranks))
    y_spread = math.sqrt(sum((y - y_mean) ** 2 for y in y_ranks))
    if x_spread == 0 or y_spread == 0:
        return None
    return covariance / (x_spread * y_spread)


def overtaken_share(admitted_at_in_arrival_order: list[int]) -> float | None:
    """The share of fans admitted strictly after someone who arrived after them."""
    if not admitted_at_in_arrival_order:
        return None
    overtaken = 0
    earliest_later = math.inf
    for admitted_at in reversed(admitted_at_in_arrival_order):
        if earliest_later < admitted_at:
            overtaken += 1
        earliest_later = min(earliest_later, admitted_at)
    return overtaken / len(admitted_at_in_arrival_order)


def measure_fairness(admissions: list[Admission]) -> Fairness:
    general = [a for a in admissions if not a.presale]
    pre_queued = sorted((a for a in general if a.pre_queued), key=lambda a: a.arrival)
    later = sorted((a for a in general if not a.pre_queued), key=lambda a: a.arrival)
    return Fairness(
        presale_admitted=len(admissions) - len(general),
        pre_queued_admitted=len(pre_queued),
        pre_queue_rank_correlation=rank_correlation(
            [a.arrival for a in pre_queued], [a.admitted_at_ms for a in pre_queued]
        ),
        later_admitted=len(later),
        later_rank_correlation=rank_correlation(
            [a.arrival for a in later], [a.admitted_at_ms for a in later]
        ),
        later_overtaken_share=overtaken_share([a.admitted_at_ms for a in later]),
    )
