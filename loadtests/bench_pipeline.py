"""B1: durable holds/s on one hot ticket type through the pipeline, against the old design.

Both sides run in this process on the same Postgres, with the same number of concurrent clients,
for the same time (the old design's clients share a pool of connections, as its servers did).
512 clients stay well inside the 2,000 active shoppers of the seeded waiting-room settings; the
old design is bound by its row lock, so its rate barely moves with the client count.
The pipeline: clients -> the per-event batcher -> Ray -> the InventoryActor -> one group commit
per batch. The old design: each hold is its own transaction that locks the ticket type row with
SELECT ... FOR UPDATE, checks, updates the counter and inserts the hold. Every hold
counted is committed before it is counted.
"""

import asyncio
import contextlib
import os
import pathlib
import tempfile
import time
import uuid
from collections.abc import Iterator

import ray

from actors.inventory_client import InventoryClient
from actors.names import NAMESPACE, inventory_actor_name
from actors.placement import node_resources
from embedded.postgres_part import EmbeddedPostgres
from engine.commands import ItemRequest, PlaceHold
from engine.outcomes import HoldView
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.pool import create_pool, service_url
from persistence.scratch_databases import create_migrated_database
from persistence.tenancy import tenant_transaction

CONCURRENT_CLIENTS = 512
ROW_LOCK_CONNECTIONS = 64
RUN_SECONDS = 10.0
CAPACITY = 1_000_000
TARGET_RATIO = 30.0
# Each side's holds are made before its clock starts, so the figures are the designs' and not the
# load generator's: at the pipeline's rate, minting three random ids per hold took a tenth of the
# machine. A run that used a whole list stops with an error rather than print a rate it capped.
COMMANDS_MAX = 400_000
ROW_LOCK_HOLDS_MAX = 100_000

LOCK_TICKET_TYPE = """
SELECT capacity - held_quantity - sold_quantity AS available FROM ticket_types
WHERE id = $1 FOR UPDATE
"""
COUNT_HOLD = "UPDATE ticket_types SET held_quantity = held_quantity + 1 WHERE id = $1"
INSERT_HOLD = """
INSERT INTO holds (id, tenant_id, event_id, user_id, subtotal_cents, expires_at,
                   item_ticket_type_ids, item_quantities, item_unit_prices_cents)
VALUES ($1, $2, $3, $4, 5000, now() + interval '10 minutes', ARRAY[$5::uuid], '{1}', '{5000}')
"""


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="onsale-bench-") as directory:
        postgres = EmbeddedPostgres(pathlib.Path(directory) / "data")
        try:
            yield postgres.start()
        finally:
            postgres.stop()


async def run_pipeline(owner_url: str) -> tuple[int, int]:
    """Holds acknowledged by the pipeline in RUN_SECONDS, and the largest batch it committed."""
    _, created = await seed_event(owner_url, event_on_sale_now(general_capacity=CAPACITY))
    event_id = str(created.event_id)
    ticket_type_id = str(created.ticket_types[0].ticket_type_id)
    client = InventoryClient(event_id, service_url(owner_url))
    await client.execute(hold_command(ticket_type_id))
    commands = iter([hold_command(ticket_type_id) for _ in range(COMMANDS_MAX)])
    deadline = time.monotonic() + RUN_SECONDS
    acknowledged = 0

    async def fan() -> None:
        nonlocal acknowledged
        for command in commands:
            if time.monotonic() >= deadline:
                return
            if isinstance(await client.execute(command), HoldView):
                acknowledged += 1

    await asyncio.gather(*(fan() for _ in range(CONCURRENT_CLIENTS)))
    assert next(commands, None) is not None, "the run used every command made: raise COMMANDS_MAX"
    actor = ray.get_actor(inventory_actor_name(event_id), namespace=NAMESPACE)
    stats = await actor.stats.remote()
    ray.kill(actor, no_restart=True)
    return acknowledged, stats.batch_size_max


def hold_command(ticket_type_id: str) -> PlaceHold:
    return PlaceHold(
        new_hold_id=str(uuid.uuid4()),
        fan_id=f"fan-{uuid.uuid4().hex}",
        items=(ItemRequest(ticket_type_id=ticket_type_id, quantity=1),),
        idempotency_key=uuid.uuid4().hex,
    )


async def run_row_lock_design(owner_url: str) -> int:
    """Holds committed by the old design in RUN_SECONDS."""
    tenant_id, created = await seed_event(owner_url, event_on_sale_now(general_capacity=CAPACITY))
    event_id = created.event_id
    ticket_type_id = created.ticket_types[0].ticket_type_id
    pool = await create_pool(
        service_url(owner_url), min_size=ROW_LOCK_CONNECTIONS, max_size=ROW_LOCK_CONNECTIONS
    )
    hold_ids = iter([uuid.uuid4() for _ in range(ROW_LOCK_HOLDS_MAX)])
    deadline = time.monotonic() + RUN_SECONDS
    committed = 0

    async def fan() -> None:
        nonlocal committed
        for hold_id in hold_ids:
            if time.monotonic() >= deadline:
                return
            async with tenant_transaction(pool, tenant_id) as connection:
                if await connection.fetchval(LOCK_TICKET_TYPE, ticket_type_id) < 1:
                    return
                await connection.execute(COUNT_HOLD, ticket_type_id)
                await connection.execute(
                    INSERT_HOLD, hold_id, tenant_id, event_id, f"fan-{hold_id.hex}", ticket_type_id
                )
            committed += 1

    try:
        await asyncio.gather(*(fan() for _ in range(CONCURRENT_CLIENTS)))
    finally:
        await pool.close()
    assert next(hold_ids, None) is not None, "the run used every hold id: raise ROW_LOCK_HOLDS_MAX"
    return committed


async def measure(server_url: str) -> tuple[float, float, int]:
    pipeline_holds, batch_size_max = await run_pipeline(
        await create_migrated_database(server_url, "onsale_bench")
    )
    row_lock_holds = await run_row_lock_design(
        await create_migrated_database(server_url, "onsale_bench")
    )
    return pipeline_holds / RUN_SECONDS, row_lock_holds / RUN_SECONDS, batch_size_max


def main() -> int:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(
        address="local",
        include_dashboard=False,
        log_to_driver=False,
        resources=node_resources(),
    )
    try:
        with postgres_server() as server_url:
            pipeline, row_lock, batch_size_max = asyncio.run(measure(server_url))
    finally:
        ray.shutdown()
    ratio = pipeline / row_lock
    print(f"clients={CONCURRENT_CLIENTS} seconds={RUN_SECONDS:.0f} each side")
    print(f"pipeline holds_per_s={pipeline:,.0f} (largest group commit: {batch_size_max} holds)")
    print(
        f"row_lock holds_per_s={row_lock:,.0f} (one transaction per hold, SELECT ... FOR UPDATE, "
        f"{ROW_LOCK_CONNECTIONS} connections)"
    )
    verdict = "ok" if ratio >= TARGET_RATIO else "short"
    print(f"B1 ratio={ratio:.1f} target={TARGET_RATIO:.0f} {verdict}")
    return 0 if verdict == "ok" else 1
