"""How the cluster's standing work goes, as the Supervisor reports it after each round and the
gateway's /health/ready shows it: a record apart, so the gateway's facade reads it without
importing the Supervisor.
"""

import msgspec


class WorkHealth(msgspec.Struct, frozen=True, kw_only=True):
    """How the cluster's standing work goes, for /health/ready (no tenant, no event named): the
    actors restarted stuck in the last round, how long the dispatcher has not turned, the age
    of the oldest outbox message due and undelivered, and the failed work waiting for a retry."""

    rounds: int
    stuck_restarted: int
    dispatcher_stalled_ms: int
    outbox_oldest_due_age_ms: int
    failed_work: int
