"""A pool that serves requests waits for Postgres a bounded time: a statement that gets no answer
and a connection that cannot be had both fail within their bounds, as errors every caller reads as
Postgres unreachable, and the pool serves again as soon as Postgres answers."""

import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from engine import limits
from persistence.database_errors import UNREACHABLE_ERRORS
from persistence.pool import create_pool, service_url
from persistence.tenancy import tenant_transaction
from tests.persistence.pausable_proxy import PausableProxy, pausable

STATEMENT_TIMEOUT_S = limits.REQUEST_STATEMENT_TIMEOUT_MS / 1_000
CONNECTION_WAIT_S = limits.REQUEST_CONNECTION_WAIT_MS / 1_000
# What a loaded machine may add to a bound; a bound, never a benchmark.
MARGIN_S = 2.0


@pytest.fixture
async def proxied(migrated_database_url: str) -> AsyncIterator[tuple[PausableProxy, asyncpg.Pool]]:
    """A request pool of two connections that reaches Postgres through a pausable proxy."""
    async with pausable(service_url(migrated_database_url)) as (proxy, url):
        pool = await create_pool(
            url,
            min_size=1,
            max_size=2,
            statement_timeout_s=STATEMENT_TIMEOUT_S,
            connection_wait_s=CONNECTION_WAIT_S,
        )
        try:
            yield proxy, pool
        finally:
            pool.terminate()


async def select_one(pool: asyncpg.Pool) -> int:
    async with tenant_transaction(pool, uuid.uuid4()) as connection:
        answer: int = await connection.fetchval("SELECT 1")
    return answer


async def test_a_statement_fails_within_its_bounds_when_postgres_stops_answering(
    proxied: tuple[PausableProxy, asyncpg.Pool],
) -> None:
    proxy, pool = proxied
    assert await select_one(pool) == 1

    proxy.pause()
    started_s = time.monotonic()
    with pytest.raises(UNREACHABLE_ERRORS):
        await select_one(pool)
    failed_after_s = time.monotonic() - started_s
    proxy.resume()

    assert failed_after_s <= STATEMENT_TIMEOUT_S + CONNECTION_WAIT_S + MARGIN_S, failed_after_s
    assert await select_one(pool) == 1


async def test_a_wait_for_a_connection_fails_within_its_bound_when_every_one_is_taken(
    proxied: tuple[PausableProxy, asyncpg.Pool],
) -> None:
    _, pool = proxied
    async with pool.acquire(), pool.acquire():
        started_s = time.monotonic()
        with pytest.raises(UNREACHABLE_ERRORS):
            await select_one(pool)
        failed_after_s = time.monotonic() - started_s

    assert failed_after_s <= CONNECTION_WAIT_S + MARGIN_S, failed_after_s
    assert await select_one(pool) == 1
