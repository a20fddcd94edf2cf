"""Minting as the cluster runs it: the outbox dispatcher hands `mint.ticket` messages to a pool of
mint worker actors, which all send to the one local chain actor; the chain actor keeps the NFTs
when Ray restarts it."""

import asyncio
import pathlib
from collections.abc import Iterator

import asyncpg
import pytest
import ray
from solders.keypair import Keypair

from actors import remote
from actors.names import NAMESPACE, local_chain_name, mint_worker_name
from actors.outbox_dispatcher import OutboxDispatcher
from actors.solana_chain import ActorChain
from actors.worker_pool import pooled_consumer
from minting.chain import ChainError
from minting.requests import MINT_TOPIC
from persistence.pool import service_url
from tests.minting.chain_reads import read_nft
from tests.minting.conftest import CUSTODY_SEED
from tests.minting.sales import issue_tickets, mint_row

pytestmark = pytest.mark.usefixtures("ray_cluster")
WORKERS = 2
TICKETS = 6
RESTART_POLLS_MAX = 300
RESTART_POLL_INTERVAL_S = 0.1


async def wait_until_the_chain_answers(chain: ActorChain) -> None:
    """Ray refuses calls while it restarts the actor; ask until it answers."""
    for _ in range(RESTART_POLLS_MAX):
        try:
            await chain.latest_blockhash()
            return
        except ChainError:
            await asyncio.sleep(RESTART_POLL_INTERVAL_S)
    raise AssertionError("the chain actor did not come back")


@pytest.fixture
def cluster_minting(
    migrated_database_url: str, chain_directory: pathlib.Path, authority: Keypair
) -> Iterator[list[str]]:
    """The chain actor and a pool of mint workers; the names of the workers."""
    remote.local_chain(str(chain_directory))
    names = []
    for index in range(WORKERS):
        remote.mint_worker(
            index,
            database_url=service_url(migrated_database_url),
            chain=ActorChain(local_chain_name(str(chain_directory))),
            authority_key=str(authority),
            custody_seed=CUSTODY_SEED,
        )
        names.append(mint_worker_name(service_url(migrated_database_url), index))
    yield names
    for name in [*names, local_chain_name(str(chain_directory))]:
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)


async def test_dispatched_tickets_are_minted_on_the_shared_chain_and_kept_across_its_restart(
    migrated_database_url: str,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    cluster_minting: list[str],
    chain_directory: pathlib.Path,
) -> None:
    requests = await issue_tickets(
        service_pool, owner_connection, TICKETS, seats=("1-A-1", None), with_outbox=True
    )
    dispatcher = OutboxDispatcher(
        database_url=service_url(migrated_database_url),
        routes={MINT_TOPIC: (pooled_consumer(cluster_minting, NAMESPACE),)},
    )
    try:
        report = await dispatcher.dispatch_round()
    finally:
        await dispatcher.close()
    rows = [await mint_row(owner_connection, request.ticket_id) for request in requests]
    chain_name = local_chain_name(str(chain_directory))
    ray.kill(ray.get_actor(chain_name, namespace=NAMESPACE), no_restart=False)
    await wait_until_the_chain_answers(ActorChain(chain_name))
    after_restart = [
        await read_nft(ActorChain(chain_name), str(row["mint_address"]), str(row["owner_address"]))
        for row in rows
    ]

    assert report.dispatched == TICKETS
    assert [(row["status"], row["ticket_status"]) for row in rows] == [
        ("minted", "valid")
    ] * TICKETS
    assert len({row["mint_address"] for row in rows}) == TICKETS
    assert [(nft.mint.supply, nft.holder.amount) for nft in after_restart] == [(1, 1)] * TICKETS
