"""The session's embedded chain taken down and brought back, and time hurried for the outbox, for
the tests that show the door and the venue's tools never wait on the chain."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import asyncpg
import ray

from actors.names import NAMESPACE, local_chain_name
from actors.remote import local_chain
from minting.requests import MINT_TOPIC
from minting.transfer_requests import TRANSFER_TOPIC
from minting.void_requests import VOID_TOPIC
from tests.gateway.http_journeys import MINT_POLL_INTERVAL_S
from tests.gateway.stack import Stack

CHAIN_STOP_TIMEOUT_S = 30.0
# The chain comes back from its journal and the mint workers find it again before the work
# waiting for it lands: on a machine that runs the whole suite this took over a minute once.
CHAIN_WORK_LANDS_BOUND_S = 180.0
# The session's other tests leave chain work behind (a cancelled event's 300 orders voided, a
# race's mints): waited for before the chain goes down, so that when it is back the work a test
# waits for is its own, not the end of a queue the single chain actor works through.
CHAIN_WORK_DRAINED_BOUND_S = 120.0
CHAIN_TOPICS = [MINT_TOPIC, TRANSFER_TOPIC, VOID_TOPIC]
COUNT_CHAIN_WORK_WAITING = """
SELECT count(*) FROM outbox
WHERE status = 'pending' AND failed_at IS NULL AND topic = ANY($1::text[])
"""


async def chain_work_drained(owner: asyncpg.Connection) -> None:
    """Wait, a bounded time, until no tenant has chain work waiting that is not failed work (the
    owner sees every tenant's outbox)."""
    deadline = time.monotonic() + CHAIN_WORK_DRAINED_BOUND_S
    while time.monotonic() < deadline:
        if await owner.fetchval(COUNT_CHAIN_WORK_WAITING, CHAIN_TOPICS) == 0:
            return
        await asyncio.sleep(MINT_POLL_INTERVAL_S)


def start_chain(stack: Stack) -> None:
    """The chain's actor again, from its journal, if it is not running."""
    local_chain(str(stack.outside.solana_directory))


@contextlib.contextmanager
def chain_down(stack: Stack) -> Iterator[None]:
    """The embedded chain is down inside the block, and back (from its journal) afterwards."""
    name = local_chain_name(str(stack.outside.solana_directory))
    with contextlib.suppress(ValueError):
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
    deadline = time.monotonic() + CHAIN_STOP_TIMEOUT_S
    while is_running(name):
        assert time.monotonic() < deadline, "the chain's actor did not stop"
        time.sleep(0.1)
    try:
        yield
    finally:
        start_chain(stack)


def is_running(name: str) -> bool:
    try:
        ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:
        return False
    return True


HURRY_OUTBOX = """
UPDATE outbox SET available_at = now()
WHERE id IN (
    SELECT id FROM outbox
    WHERE status = 'pending' AND tenant_id = $1
    ORDER BY position
    FOR UPDATE SKIP LOCKED)
"""


async def hurry_outbox(owner: asyncpg.Connection, tenant_id: uuid.UUID) -> None:
    """Make the tenant's pending messages due now, as time passing would; other tests' tenants
    keep their pace. Rows the dispatcher holds are left to the next poll, so the two never
    deadlock."""
    await owner.execute(HURRY_OUTBOX, tenant_id)


async def until(
    check: Callable[[], Awaitable[object]],
    owner: asyncpg.Connection,
    tenant_id: uuid.UUID,
    what: str,
) -> None:
    """Poll `check()`, hurrying the tenant's outbox between polls, until it answers something
    truthy."""
    deadline = time.monotonic() + CHAIN_WORK_LANDS_BOUND_S
    while time.monotonic() < deadline:
        if await check():
            return
        await hurry_outbox(owner, tenant_id)
        await asyncio.sleep(MINT_POLL_INTERVAL_S)
    raise AssertionError(f"{what} never happened within {CHAIN_WORK_LANDS_BOUND_S} s")


async def mint_of(owner: asyncpg.Connection, ticket_id: str) -> asyncpg.Record:
    row = await owner.fetchrow(
        "SELECT status, attempts, owner_address, mint_address FROM nft_mints WHERE ticket_id = $1",
        uuid.UUID(ticket_id),
    )
    assert row is not None
    return row


async def is_minted(owner: asyncpg.Connection, ticket_id: str) -> bool:
    return bool((await mint_of(owner, ticket_id))["status"] == "minted")


async def mint_out_of_quick_retries(
    owner: asyncpg.Connection, tenant_id: uuid.UUID, ticket_id: str
) -> None:
    """Wait, hurrying the outbox, until the ticket's mint has become failed work."""

    async def is_failed_work() -> bool:
        return bool(
            await owner.fetchval(
                "SELECT failed_at IS NOT NULL FROM outbox WHERE topic = $1 AND aggregate_id = $2",
                MINT_TOPIC,
                ticket_id,
            )
        )

    await until(is_failed_work, owner, tenant_id, "the mint running out of its quick retries")
