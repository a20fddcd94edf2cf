"""Mints/s: NFTs minted end to end as the cluster mints them, and checked on chain afterwards.

`python -m loadtests.bench_mints [N]` issues N tickets (default 200) of one paid order with their
`mint.ticket` outbox messages, then times the outbox dispatcher handing them to a pool of mint
worker actors, which send to the local chain actor (LiteSVM, journalled to a temporary directory),
until every ticket is valid and its mint recorded. Postgres is embedded unless DATABASE_URL is set.
"""

import asyncio
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

import msgspec
import ray
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from actors import remote
from actors.names import NAMESPACE, local_chain_name, mint_worker_name
from actors.outbox_dispatcher import OutboxDispatcher
from actors.placement import node_resources
from actors.solana_chain import ActorChain
from actors.worker_pool import pooled_consumer
from embedded.postgres_part import EmbeddedPostgres
from loadtests.seeding import event_on_sale_now, seed_event
from minting.minter import NftOnChain, nft_on_chain
from minting.requests import MINT_TOPIC, MintRequest
from minting.transactions import holder_account_address
from persistence.migrate import migrate
from persistence.pool import create_pool, service_url
from persistence.scratch_databases import create_database, drop_database
from persistence.tenancy import tenant_transaction

TICKETS_DEFAULT = 200
WORKERS = 2
DISPATCH_ROUNDS_MAX = 1_000
CUSTODY_SEED = secrets.token_hex(32)
PROJECT_ROOT = Path(__file__).resolve().parent.parent

INSERT_ORDER = """
WITH hold AS (
    INSERT INTO holds (tenant_id, event_id, user_id, subtotal_cents, expires_at,
                       item_ticket_type_ids, item_quantities, item_unit_prices_cents)
    VALUES ($1, $2, 'fan-1', 0, now() + interval '10 minutes', ARRAY[$3::uuid], ARRAY[$4::integer],
            '{0}')
    RETURNING id)
INSERT INTO orders (tenant_id, event_id, hold_id, user_id, status, currency, subtotal_cents,
                    fees_cents, total_cents, expires_at, paid_at)
SELECT $1, $2, hold.id, 'fan-1', 'paid', 'USD', 0, 0, 0, now() + interval '15 minutes', now()
FROM hold
RETURNING id
"""

INSERT_TICKETS = """
WITH issued AS (
    INSERT INTO tickets (tenant_id, event_id, order_id, ticket_type_id, owner_user_id,
                         code_seed, position)
    SELECT $1, $2, $3, $4, 'fan-1', sha256(gen_random_uuid()::text::bytea), position
    FROM generate_series(0, $5 - 1) AS position
    RETURNING id)
INSERT INTO nft_mints (tenant_id, ticket_id) SELECT $1, id FROM issued
RETURNING ticket_id
"""

INSERT_MESSAGES = """
INSERT INTO outbox (tenant_id, topic, aggregate_id, payload)
SELECT $1, $2, message.aggregate_id, message.payload::jsonb
FROM unnest($3::text[], $4::text[]) AS message(aggregate_id, payload)
"""


async def issue_tickets(owner_url: str, count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    tenant_id, created = await seed_event(owner_url, event_on_sale_now(general_capacity=count))
    (ticket_type,) = created.ticket_types
    pool = await create_pool(service_url(owner_url), min_size=1, max_size=1)
    try:
        async with tenant_transaction(pool, tenant_id) as connection:
            order_id = await connection.fetchval(
                INSERT_ORDER, tenant_id, created.event_id, ticket_type.ticket_type_id, count
            )
            rows = await connection.fetch(
                INSERT_TICKETS,
                tenant_id,
                created.event_id,
                order_id,
                ticket_type.ticket_type_id,
                count,
            )
            ticket_ids = [row["ticket_id"] for row in rows]
            payloads = [
                msgspec.json.encode(
                    MintRequest(
                        ticket_id=ticket_id,
                        tenant_id=tenant_id,
                        event_id=created.event_id,
                        order_id=order_id,
                        owner_user_id="fan-1",
                        event_name="Night One",
                        ticket_type_name="General",
                        seat=f"101-A-{position}",
                    )
                ).decode()
                for position, ticket_id in enumerate(ticket_ids)
            ]
            await connection.execute(
                INSERT_MESSAGES,
                tenant_id,
                MINT_TOPIC,
                [str(ticket_id) for ticket_id in ticket_ids],
                payloads,
            )
    finally:
        await pool.close()
    return tenant_id, ticket_ids


async def mint_all(owner_url: str, count: int, chain_directory: Path) -> float:
    """Seconds from the first dispatch until every ticket is minted; checks the chain after."""
    await migrate(owner_url)
    tenant_id, ticket_ids = await issue_tickets(owner_url, count)
    remote.local_chain(str(chain_directory))
    names = [mint_worker_name(service_url(owner_url), index) for index in range(WORKERS)]
    chain_name = local_chain_name(str(chain_directory))
    for index in range(WORKERS):
        remote.mint_worker(
            index,
            database_url=service_url(owner_url),
            chain=ActorChain(chain_name),
            authority_key=str(Keypair()),
            custody_seed=CUSTODY_SEED,
        )
    dispatcher = OutboxDispatcher(
        database_url=service_url(owner_url),
        routes={MINT_TOPIC: (pooled_consumer(names, NAMESPACE),)},
    )
    pool = await create_pool(service_url(owner_url), min_size=1, max_size=1)
    try:
        await warm_up(names, chain_name)
        started = time.perf_counter()
        minted = 0
        for _ in range(DISPATCH_ROUNDS_MAX):
            await dispatcher.dispatch_round()
            async with tenant_transaction(pool, tenant_id) as connection:
                minted = await connection.fetchval(
                    "SELECT count(*) FROM nft_mints WHERE status = 'minted'"
                )
            if minted == count:
                break
        elapsed_s = time.perf_counter() - started
        assert minted == count, f"only {minted} of {count} tickets were minted"
        async with tenant_transaction(pool, tenant_id) as connection:
            rows = await connection.fetch(
                "SELECT owner_address, mint_address FROM nft_mints WHERE ticket_id = ANY($1)",
                ticket_ids,
            )
        await check_on_chain(
            chain_name, [(row["mint_address"], row["owner_address"]) for row in rows]
        )
        return elapsed_s
    finally:
        await dispatcher.close()
        await pool.close()
        for name in [*names, chain_name]:
            ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)


async def warm_up(worker_names: list[str], chain_name: str) -> None:
    """Start the actors' processes, pools and chain before the clock starts: the figure is the
    rate of minting, not of starting Ray actors."""
    await ActorChain(chain_name).latest_blockhash()
    for name in worker_names:
        await ray.get_actor(name, namespace=NAMESPACE).start.remote()


async def check_on_chain(chain_name: str, nfts: list[tuple[str, str]]) -> None:
    """Every recorded NFT is complete on chain: supply 1, held by its owner, no mint authority."""
    addresses = []
    for mint_address, owner_address in nfts:
        mint = Pubkey.from_string(mint_address)
        addresses += [mint, holder_account_address(Pubkey.from_string(owner_address), mint)]
    accounts = await ActorChain(chain_name).get_accounts(addresses)
    for index, (_, owner_address) in enumerate(nfts):
        owner = Pubkey.from_string(owner_address)
        finding, found = nft_on_chain(accounts[2 * index], [(owner, accounts[2 * index + 1])])
        assert finding is NftOnChain.COMPLETE and found == owner_address, found


async def on_fresh_database(server_url: str, count: int, chain_directory: Path) -> float:
    url = await create_database(server_url, "onsale_bench")
    try:
        return await mint_all(url, count, chain_directory)
    finally:
        await drop_database(server_url, url)


def main(arguments: list[str]) -> int:
    count = int(arguments[0]) if arguments else TICKETS_DEFAULT
    ray.init(
        address="local",
        include_dashboard=False,
        log_to_driver=False,
        resources=node_resources(),
        runtime_env={"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}},
    )
    try:
        with tempfile.TemporaryDirectory(prefix="onsale-bench-mints-") as directory:
            chain_directory = Path(directory) / "solana"
            configured = os.environ.get("DATABASE_URL")
            if configured:
                elapsed_s = asyncio.run(on_fresh_database(configured, count, chain_directory))
            else:
                postgres = EmbeddedPostgres(Path(directory) / "postgres")
                try:
                    elapsed_s = asyncio.run(
                        on_fresh_database(postgres.start(), count, chain_directory)
                    )
                finally:
                    postgres.stop()
    finally:
        ray.shutdown()
    print(f"{count} NFTs minted and checked on chain in {elapsed_s:.2f} s with {WORKERS} workers")
    print(f"MINTS mints_per_s={count / elapsed_s:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
