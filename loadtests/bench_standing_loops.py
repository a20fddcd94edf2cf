"""LOOPS: what the standing loops cost a node while a platform has many quiet tenants.

The outbox dispatcher (5 rounds a second), the payment reconciler (one every 2 s) and the
Supervisor (one every 5 s) each start a round by finding the tenants with work. Seeds a fresh
database (embedded Postgres in a temporary directory unless DATABASE_URL is set) with TENANTS
tenants, BUSY_TENANTS of them with a message due, and times each loop's question as it asks it
(persistence/tenant_probes.py: one round trip for every tenant). For comparison it times what a
round cost when a loop visited every tenant in a transaction of its own. The figure is the
Postgres and client time the three loops spend per second at their rates.
"""

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from embedded.postgres_part import EmbeddedPostgres
from engine import limits
from persistence.migrate import migrate
from persistence.outbox import due_messages
from persistence.pool import create_pool, service_url
from persistence.scratch_databases import create_database, drop_database
from persistence.tenancy import tenant_transaction
from persistence.tenant_probes import (
    tenants_to_supervise,
    tenants_with_due_messages,
    tenants_with_unsettled_payments,
)

TENANTS = 1_000
BUSY_TENANTS = 10
ROUNDS_TIMED = 40
ROUNDS_PER_SECOND = {
    "dispatcher": 1_000 / limits.OUTBOX_POLL_INTERVAL_MS,
    "reconciler": 1_000 / limits.PAYMENT_RECONCILE_INTERVAL_MS,
    "supervisor": 1_000 / limits.SUPERVISOR_ROUND_INTERVAL_MS,
}
# Finding the tenants with work may take a tenth of a core at most, whatever their number.
TARGET_MS_PER_SECOND = 100.0


async def seed(owner_url: str) -> None:
    owner = await asyncpg.connect(owner_url)
    try:
        tenants = await owner.fetch(
            "INSERT INTO tenants (name) SELECT 'venue ' || n FROM generate_series(1, $1) AS n "
            "RETURNING id",
            TENANTS,
        )
        await owner.executemany(
            "INSERT INTO outbox (tenant_id, topic, aggregate_id, payload) "
            "VALUES ($1, 'notice.order_confirmed', $2, '{}')",
            [(row["id"], str(uuid.uuid4())) for row in tenants[:BUSY_TENANTS]],
        )
    finally:
        await owner.close()


async def round_ms(ask: Callable[[], Awaitable[object]]) -> float:
    """The median time of one round's question, over ROUNDS_TIMED rounds."""
    times = []
    for _ in range(ROUNDS_TIMED):
        started = time.perf_counter()
        await ask()
        times.append((time.perf_counter() - started) * 1_000)
    return statistics.median(times)


async def measure(pool: asyncpg.Pool) -> dict[str, float]:
    now_ms = int(time.time() * 1_000)
    async with pool.acquire() as connection:
        return {
            "dispatcher": await round_ms(lambda: tenants_with_due_messages(connection)),
            "reconciler": await round_ms(lambda: tenants_with_unsettled_payments(connection)),
            "supervisor": await round_ms(lambda: tenants_to_supervise(connection, now_ms=now_ms)),
        }


async def every_tenant_visited_ms(pool: asyncpg.Pool) -> float:
    """One dispatcher round as it was: every tenant asked for its due messages in a transaction
    of its own."""
    async with pool.acquire() as connection:
        tenants = [row["id"] for row in await connection.fetch("SELECT id FROM tenants")]
    started = time.perf_counter()
    for tenant_id in tenants:
        async with tenant_transaction(pool, tenant_id) as connection:
            await due_messages(connection, limit=limits.OUTBOX_BATCH_MESSAGES_MAX)
    return (time.perf_counter() - started) * 1_000


async def on_fresh_database(server_url: str) -> float:
    owner_url = await create_database(server_url, "onsale_bench_loops")
    try:
        await migrate(owner_url)
        await seed(owner_url)
        pool = await create_pool(service_url(owner_url), min_size=1, max_size=2)
        try:
            rounds = await measure(pool)
            visited_ms = await every_tenant_visited_ms(pool)
        finally:
            await pool.close()
    finally:
        await drop_database(server_url, owner_url)
    for loop, milliseconds in rounds.items():
        print(
            f"  {loop}: {milliseconds:.2f} ms a round, {ROUNDS_PER_SECOND[loop]:g} rounds a second"
        )
    print(
        f"  every tenant visited in its own transaction: {visited_ms:.0f} ms a round, "
        f"{visited_ms * ROUNDS_PER_SECOND['dispatcher']:.0f} ms a second for the dispatcher alone"
    )
    return sum(rounds[loop] * ROUNDS_PER_SECOND[loop] for loop in rounds)


def main() -> int:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        per_second_ms = asyncio.run(on_fresh_database(configured))
    else:
        with tempfile.TemporaryDirectory(prefix="onsale-bench-") as directory:
            postgres = EmbeddedPostgres(Path(directory) / "postgres")
            try:
                per_second_ms = asyncio.run(on_fresh_database(postgres.start()))
            finally:
                postgres.stop()
    met = per_second_ms < TARGET_MS_PER_SECOND
    print(
        f"LOOPS ms_per_second={per_second_ms:.1f} tenants={TENANTS} "
        f"target=<{TARGET_MS_PER_SECOND:.0f} {'ok' if met else 'short'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
