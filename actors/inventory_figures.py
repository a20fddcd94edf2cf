"""What an InventoryActor reports about itself: its pipeline's figures (for /metrics, the
watchdog and the batch-size benchmark) and the counters they are read from, the live snapshot the
API shows, and the differences a reconciliation finds between memory and Postgres: records the
gateway and the Supervisor read without importing the actor.
"""

import msgspec

from engine.inventory.unit_counts import TicketTypeCounts

COMMIT_SECONDS_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


class PipelineStats(msgspec.Struct, frozen=True, kw_only=True):
    """What the actor has done since it started, for /metrics and the batch-size benchmark;
    `stalled_for_ms` is how long requests have waited with none answered (the watchdog's)."""

    epoch: int
    batches_committed: int
    commands_decided: int
    batch_size_max: int
    commit_failures: int
    rebuilds: int
    rebuild_seconds_last: float
    commit_seconds_total: float
    commit_seconds_bounds: tuple[float, ...]
    commit_seconds_buckets: tuple[int, ...]
    inbox_commands: int
    stalled_for_ms: int = 0


class InventorySnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The live figures the API shows: counts per ticket type, the pause, and optionally the
    state of every seat (one byte each, in seat-map order)."""

    paused: bool
    counts: list[TicketTypeCounts]
    seat_states: bytes


class CountDifference(msgspec.Struct, frozen=True, kw_only=True):
    """One count on which memory and Postgres disagree; any difference is a bug to look into."""

    ticket_type_id: str
    measure: str
    in_memory: int
    in_postgres: int


class PipelineCounters:
    """What the actor counts as it goes, read out as its `PipelineStats`."""

    __slots__ = (
        "batch_size_max",
        "batches_committed",
        "commands_decided",
        "commit_failures",
        "commit_seconds_buckets",
        "commit_seconds_total",
        "rebuild_seconds_last",
        "rebuilds",
    )

    def __init__(self) -> None:
        self.batches_committed = 0
        self.commands_decided = 0
        self.batch_size_max = 0
        self.commit_failures = 0
        self.rebuilds = 0
        self.rebuild_seconds_last = 0.0
        self.commit_seconds_total = 0.0
        self.commit_seconds_buckets = [0] * (len(COMMIT_SECONDS_BUCKETS) + 1)

    def record_commit(self, seconds: float) -> None:
        self.batches_committed += 1
        self.commit_seconds_total += seconds
        bucket = next(
            (index for index, bound in enumerate(COMMIT_SECONDS_BUCKETS) if seconds <= bound),
            len(COMMIT_SECONDS_BUCKETS),
        )
        self.commit_seconds_buckets[bucket] += 1

    def stats(self, *, epoch: int, inbox_commands: int, stalled_for_ms: int) -> PipelineStats:
        return PipelineStats(
            epoch=epoch,
            batches_committed=self.batches_committed,
            commands_decided=self.commands_decided,
            batch_size_max=self.batch_size_max,
            commit_failures=self.commit_failures,
            rebuilds=self.rebuilds,
            rebuild_seconds_last=self.rebuild_seconds_last,
            commit_seconds_total=self.commit_seconds_total,
            commit_seconds_bounds=COMMIT_SECONDS_BUCKETS,
            commit_seconds_buckets=tuple(self.commit_seconds_buckets),
            inbox_commands=inbox_commands,
            stalled_for_ms=stalled_for_ms,
        )
