"""Tenants named by token claims are registered by the service through the owner's function,
never by writing the table."""

import asyncio
import uuid

import asyncpg
import pytest

from persistence.pool import SERVICE_ROLE
from persistence.tenants import register_tenant


async def test_tenant_exists_when_the_service_registers_it(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id = uuid.uuid4()

    async with service_pool.acquire() as connection:
        await register_tenant(connection, tenant_id=tenant_id)

    name = await owner_connection.fetchval("SELECT name FROM tenants WHERE id = $1", tenant_id)
    assert name == f"tenant {tenant_id}"


async def test_one_row_remains_when_a_tenant_is_registered_again_and_concurrently(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id = uuid.uuid4()

    async def register() -> None:
        async with service_pool.acquire() as connection:
            await register_tenant(connection, tenant_id=tenant_id)

    await asyncio.gather(*(register() for _ in range(4)))
    await register()

    count = await owner_connection.fetchval("SELECT count(*) FROM tenants WHERE id = $1", tenant_id)
    assert count == 1


async def test_existing_name_is_kept_when_a_named_tenant_is_registered(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id = await owner_connection.fetchval(
        "INSERT INTO tenants (name) VALUES ('Arena Group') RETURNING id"
    )

    async with service_pool.acquire() as connection:
        await register_tenant(connection, tenant_id=tenant_id)

    name = await owner_connection.fetchval("SELECT name FROM tenants WHERE id = $1", tenant_id)
    assert name == "Arena Group"


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'sneaked in')",
        "UPDATE tenants SET name = 'renamed'",
        "DELETE FROM tenants",
    ],
    ids=["insert", "update", "delete"],
)
async def test_write_is_refused_when_the_service_writes_tenants_directly(
    service_pool: asyncpg.Pool, statement: str
) -> None:
    async with service_pool.acquire() as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await connection.execute(statement)


async def test_only_the_service_may_call_the_function_when_migrated(
    owner_connection: asyncpg.Connection,
) -> None:
    function = await owner_connection.fetchrow(
        """
        SELECT prosecdef, proconfig, pg_get_userbyid(proowner) AS owner,
               has_function_privilege($1, oid, 'EXECUTE') AS service_may_execute,
               coalesce(proacl::text[], ARRAY[]::text[]) AS grants
        FROM pg_proc WHERE proname = 'register_tenant'
        """,
        SERVICE_ROLE,
    )
    tables_owner = await owner_connection.fetchval(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'tenants'::regclass"
    )

    assert function["prosecdef"]
    assert function["proconfig"] == ["search_path=pg_catalog, pg_temp"]
    assert function["owner"] == tables_owner
    assert function["service_may_execute"]
    assert not any(grant.startswith("=") for grant in function["grants"]), function["grants"]
