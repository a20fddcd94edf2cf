"""What an InventoryActor reports about itself: its pipeline's figures (for /metrics, the
watchdog and the batch-size benchmark), the live snapshot the API shows, and the differences a
reconciliation finds between memory and Postgres. Records only, so the gateway and the Supervisor
read them without importing the actor.
"""

import msgspec

from engine.inventory import TicketTypeCounts
from persistence.reconciliation import StoredCounts

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


def count_differences(
    memory: list[TicketTypeCounts], stored: list[StoredCounts]
) -> list[CountDifference]:
    """Compare memory with both the counters and the recounted rows of Postgres."""
    stored_by_type = {counts.ticket_type_id: counts for counts in stored}
    differences = []
    for counts in memory:
        row = stored_by_type.get(counts.ticket_type_id)
        if row is None:
            differences.append(
                CountDifference(
                    ticket_type_id=counts.ticket_type_id,
                    measure="ticket_type",
                    in_memory=counts.capacity,
                    in_postgres=0,
                )
            )
            continue
        for measure, in_memory, in_postgres in (
            ("capacity", counts.capacity, row.capacity),
            ("held_counter", counts.held, row.held_counter),
            ("held_in_rows", counts.held, row.held_in_rows),
            ("sold_counter", counts.sold, row.sold_counter),
            ("sold_in_rows", counts.sold, row.sold_in_rows),
            ("withheld_in_rows", counts.withheld, row.withheld_in_rows),
        ):
            if in_memory != in_postgres:
                differences.append(
                    CountDifference(
                        ticket_type_id=counts.ticket_type_id,
                        measure=measure,
                        in_memory=in_memory,
                        in_postgres=in_postgres,
                    )
                )
    return differences
