"""What the driver saw: every answer by step, its latency, what the fans were told was theirs
(the holds and orders acknowledged to them) and how each fan's journey ended.

The invariants are checked against the system, never against this record; the record only says
what the system promised, so the check can look for it.
"""

import collections
import dataclasses
import enum
import math

import msgspec

TRANSPORT_FAILURE = 0


class Step(enum.StrEnum):
    CREATE_EVENT = "create_event"
    CREATE_CODE = "create_code"
    CODES = "codes"
    JOIN = "join"
    POLL = "poll"
    SEATMAP = "seatmap"
    EVENT_PAGE = "event_page"
    HOLD = "hold"
    CHECKOUT = "checkout"
    PAY = "pay"
    RELEASE = "release"
    WAIT_LIST_JOIN = "wait_list_join"
    WAIT_LIST_POLL = "wait_list_poll"
    STATS = "stats"


REPORTED_STEPS = (Step.JOIN, Step.POLL, Step.HOLD, Step.CHECKOUT, Step.PAY, Step.RELEASE)


class Outcome(enum.StrEnum):
    BOUGHT = "bought"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    LEFT_SOLD_OUT = "left_sold_out"
    TOLD_SOLD_OUT = "told_sold_out"
    LEFT_WAIT_LIST = "left_wait_list"
    NEVER_ADMITTED = "never_admitted"
    PLACE_EXPIRED = "place_expired"
    FAILED = "failed"
    OUT_OF_TIME = "out_of_time"


class LatencySummary(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list; 0 for an empty one."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summarize_latencies(latencies_ms: list[float]) -> LatencySummary:
    ordered = sorted(latencies_ms)
    return LatencySummary(
        count=len(ordered),
        p50_ms=percentile(ordered, 0.50),
        p99_ms=percentile(ordered, 0.99),
        max_ms=ordered[-1] if ordered else 0.0,
    )


@dataclasses.dataclass(slots=True)
class PresaleCounts:
    """The fan club's members as the driver saw them: queued with the code, and admitted before
    the general sale opened."""

    members_queued: int = 0
    members_admitted_early: int = 0


class DriverRecord:
    """Filled by the fans and the venue as answers arrive; times are seconds since the start."""

    def __init__(self) -> None:
        self.latencies_ms: dict[Step, list[float]] = {step: [] for step in Step}
        self.waits_ms: dict[Step, list[float]] = {step: [] for step in Step}
        # The first answer of each kind that is not a success, as evidence for the report.
        self.first_refusals: dict[str, str] = {}
        self.answers: collections.Counter[tuple[Step, int]] = collections.Counter()
        self.error_codes: collections.Counter[tuple[Step, str]] = collections.Counter()
        self.acknowledged_hold_ids: list[str] = []
        self.hold_acknowledged_at_s: list[float] = []
        self.acknowledged_order_ids: set[str] = set()
        self.paid_order_ids: set[str] = set()
        self.outcomes: collections.Counter[Outcome] = collections.Counter()
        self.tickets_bought = 0
        self.fans_arrived = 0
        self.fans_admitted = 0
        self.fans_done = 0
        # The sell-out as the waiting fans learned it: the wall-clock moment each saw its place
        # answer `sold_out`, and how many were still waiting when the driver stopped them.
        self.told_sold_out_at_s: list[float] = []
        self.stopped_while_waiting = 0
        self.wait_list_joins = 0
        self.wait_list_offers = 0
        self.wait_list_conversions = 0
        self.presale = PresaleCounts()

    def note_wait(self, step: Step, wait_ms: float) -> None:
        """How long a call waited for a connection of its lane: the driver's own queueing."""
        self.waits_ms[step].append(wait_ms)

    def note_answer(
        self, step: Step, status: int, latency_ms: float, code: str | None, excerpt: str
    ) -> None:
        self.latencies_ms[step].append(latency_ms)
        self.answers[step, status] += 1
        if code is not None:
            self.error_codes[step, code] += 1
        if status >= 400 or status == TRANSPORT_FAILURE:
            kind = f"{step} {status or 'transport'}" + (f" {code}" if code else "")
            self.first_refusals.setdefault(kind, excerpt)

    def note_hold(self, hold_id: str, at_s: float) -> None:
        self.acknowledged_hold_ids.append(hold_id)
        self.hold_acknowledged_at_s.append(at_s)

    def note_order(self, order_id: str, *, paid: bool) -> None:
        self.acknowledged_order_ids.add(order_id)
        if paid:
            self.paid_order_ids.add(order_id)

    def note_outcome(self, outcome: Outcome) -> None:
        self.outcomes[outcome] += 1
        self.fans_done += 1

    def count_answers(self, *, server_errors: bool = False) -> int:
        """Every answer, or only the 5xx ones and the calls that got no answer at all."""
        return sum(
            count
            for (_, status), count in self.answers.items()
            if not server_errors or status >= 500 or status == TRANSPORT_FAILURE
        )

    def latency_summaries(self) -> dict[Step, LatencySummary]:
        return {step: summarize_latencies(self.latencies_ms[step]) for step in REPORTED_STEPS}
