"""Fixtures for persistence tests: a migrated database, its owner connection, the service pool
and two tenants each with a complete sale. Every test gets its own database."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from persistence.migrate import migrate
from persistence.pool import create_pool, service_url
from tests.persistence.builders import Sale, seed_sale


@pytest.fixture
async def migrated_database_url(empty_database_url: str) -> str:
    await migrate(empty_database_url)
    return empty_database_url


@pytest.fixture
async def owner_connection(migrated_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(migrated_database_url)
    yield connection
    await connection.close()


@pytest.fixture
async def service_pool(migrated_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(service_url(migrated_database_url), min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
async def sale_of_tenant_a(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> Sale:
    return await seed_sale(service_pool, owner_connection, "Tenant A")


@pytest.fixture
async def sale_of_tenant_b(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> Sale:
    return await seed_sale(service_pool, owner_connection, "Tenant B")
