"""Tenants are fenced by Postgres: row-level security, FORCE'd, on every tenant-owned table, for a
service role that owns nothing and cannot bypass it."""

import uuid

import asyncpg
import pytest

from persistence.pool import (
    SERVICE_ROLE,
    UnfencedRoleError,
    create_pool,
    service_url,
    set_service_password,
)
from persistence.tenancy import tenant_transaction
from tests.persistence.builders import Sale

# Directories the service reads before it knows a tenant: tenants, which tenant owns an event,
# which tenants hold tickets of a fan and which sold to one; Stripe's verified events, whose
# tenant is known only once a payment worker finds their order; and the system's shared secrets,
# which belong to no tenant and which only the owner reads.
UNFENCED_TABLES = {
    "tenants",
    "stripe_events",
    "event_directory",
    "ticket_holder_directory",
    "order_buyer_directory",
    "schema_migrations",
    "cluster_secrets",
}

SELECT_TENANT_OWNED_TABLES = """
SELECT table_name FROM information_schema.columns
WHERE table_schema = 'public' AND column_name = 'tenant_id'
ORDER BY table_name
"""


async def tenant_owned_tables(connection: asyncpg.Connection) -> list[str]:
    return [row["table_name"] for row in await connection.fetch(SELECT_TENANT_OWNED_TABLES)]


async def test_every_table_but_the_tenant_directory_is_tenant_owned_when_migrated(
    owner_connection: asyncpg.Connection,
) -> None:
    rows = await owner_connection.fetch(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
    )
    all_tables = {row["relname"] for row in rows}

    assert set(await tenant_owned_tables(owner_connection)) == all_tables - UNFENCED_TABLES


async def test_every_tenant_owned_table_is_fenced_when_migrated(
    owner_connection: asyncpg.Connection,
) -> None:
    rows = await owner_connection.fetch(
        """
        SELECT pg_class.relname AS table_name, relrowsecurity, relforcerowsecurity,
               array_agg(pg_get_expr(polqual, polrelid)) AS using_expressions,
               array_agg(pg_get_expr(polwithcheck, polrelid)) AS check_expressions,
               array_agg(polcmd::text) AS commands
        FROM pg_class
        LEFT JOIN pg_policy ON pg_policy.polrelid = pg_class.oid
        WHERE pg_class.relname = ANY($1::text[]) AND relnamespace = 'public'::regnamespace
        GROUP BY pg_class.relname, relrowsecurity, relforcerowsecurity
        """,
        await tenant_owned_tables(owner_connection),
    )
    expected = (
        "(tenant_id = (NULLIF(current_setting('app.current_tenant_id'::text, true), "
        "''::text))::uuid)"
    )
    assert len(rows) >= 20
    for row in rows:
        assert row["relrowsecurity"], row["table_name"]
        assert row["relforcerowsecurity"], row["table_name"]
        assert row["commands"] == ["*"], row["table_name"]
        assert row["using_expressions"] == [expected], row["table_name"]
        assert row["check_expressions"] == [expected], row["table_name"]


async def test_service_role_owns_nothing_and_cannot_bypass_row_security_when_migrated(
    owner_connection: asyncpg.Connection,
) -> None:
    role = await owner_connection.fetchrow(
        "SELECT oid, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1",
        SERVICE_ROLE,
    )
    owned = await owner_connection.fetchval(
        "SELECT count(*) FROM pg_class WHERE relowner = $1", role["oid"]
    )

    assert role["rolcanlogin"]
    assert not role["rolsuper"]
    assert not role["rolbypassrls"]
    assert owned == 0


async def test_pool_is_refused_when_its_role_bypasses_row_security(
    migrated_database_url: str,
) -> None:
    with pytest.raises(UnfencedRoleError, match=SERVICE_ROLE):
        await create_pool(migrated_database_url, min_size=1, max_size=1)


async def count_rows_by_table(
    connection: asyncpg.Connection, tables: list[str], tenant_id: uuid.UUID | None = None
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        if tenant_id is None:
            counts[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")
        else:
            counts[table] = await connection.fetchval(
                f"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant_id
            )
    return counts


async def test_service_sees_only_its_own_rows_in_every_table_when_a_tenant_is_set(
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    sale_of_tenant_a: Sale,
    sale_of_tenant_b: Sale,
) -> None:
    tables = await tenant_owned_tables(owner_connection)
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        own_rows = await count_rows_by_table(connection, tables, sale_of_tenant_a.tenant_id)
        all_visible_rows = await count_rows_by_table(connection, tables)
        other_rows = await count_rows_by_table(connection, tables, sale_of_tenant_b.tenant_id)
    rows_of_b = await count_rows_by_table(owner_connection, tables, sale_of_tenant_b.tenant_id)

    assert all(count > 0 for count in own_rows.values()), own_rows
    assert all(count > 0 for count in rows_of_b.values()), rows_of_b
    assert all_visible_rows == own_rows
    assert other_rows == dict.fromkeys(tables, 0)


@pytest.mark.parametrize("setting", [None, ""], ids=["unset", "empty"])
async def test_nothing_is_visible_when_no_tenant_is_set(
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    sale_of_tenant_a: Sale,
    setting: str | None,
) -> None:
    tables = await tenant_owned_tables(owner_connection)
    async with service_pool.acquire() as connection, connection.transaction():
        if setting is not None:
            await connection.execute(
                "SELECT set_config('app.current_tenant_id', $1, true)", setting
            )
        visible = await count_rows_by_table(connection, tables)

    assert visible == dict.fromkeys(tables, 0)
    rows_of_a = await count_rows_by_table(owner_connection, tables, sale_of_tenant_a.tenant_id)
    assert all(count > 0 for count in rows_of_a.values()), rows_of_a


async def test_row_is_refused_when_written_with_another_tenants_id(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, sale_of_tenant_b: Sale
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(
                "INSERT INTO venues (tenant_id, name) VALUES ($1, 'Stolen')",
                sale_of_tenant_b.tenant_id,
            )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(
                """
                INSERT INTO audit_log (tenant_id, actor, action, subject_type)
                VALUES ($1, 'intruder', 'event.read', 'event')
                """,
                sale_of_tenant_b.tenant_id,
            )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(
                "UPDATE venues SET tenant_id = $1 WHERE id = $2",
                sale_of_tenant_b.tenant_id,
                sale_of_tenant_a.venue_id,
            )


async def test_update_and_delete_touch_no_row_when_the_rows_are_another_tenants(
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    sale_of_tenant_a: Sale,
    sale_of_tenant_b: Sale,
) -> None:
    tables = await tenant_owned_tables(owner_connection)
    rows_of_b_before = await count_rows_by_table(
        owner_connection, tables, sale_of_tenant_b.tenant_id
    )
    statuses: dict[str, list[str]] = {}
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        for table in tables:
            statuses[table] = []
            if await connection.fetchval("SELECT has_table_privilege($1, 'UPDATE')", table):
                statuses[table].append(
                    await connection.execute(
                        f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1",
                        sale_of_tenant_b.tenant_id,
                    )
                )
            if await connection.fetchval("SELECT has_table_privilege($1, 'DELETE')", table):
                statuses[table].append(
                    await connection.execute(
                        f"DELETE FROM {table} WHERE tenant_id = $1", sale_of_tenant_b.tenant_id
                    )
                )

    assert statuses == {
        table: (["UPDATE 0", "DELETE 0"] if table not in {"ledger_entries", "audit_log"} else [])
        for table in tables
    }
    assert (
        await count_rows_by_table(owner_connection, tables, sale_of_tenant_b.tenant_id)
        == rows_of_b_before
    )


@pytest.mark.parametrize("table", ["ledger_entries", "audit_log"])
async def test_change_is_refused_when_the_service_rewrites_an_append_only_table(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, table: str
) -> None:
    for statement in (f"UPDATE {table} SET tenant_id = tenant_id", f"DELETE FROM {table}"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
                await connection.execute(statement)


async def test_tenant_is_forgotten_when_its_transaction_ends_on_a_reused_connection(
    migrated_database_url: str, sale_of_tenant_a: Sale
) -> None:
    pool = await create_pool(service_url(migrated_database_url), min_size=1, max_size=1)
    try:
        async with tenant_transaction(pool, sale_of_tenant_a.tenant_id) as connection:
            events_inside = await connection.fetchval("SELECT count(*) FROM events")
            backend_inside = await connection.fetchval("SELECT pg_backend_pid()")
        async with pool.acquire() as connection:
            backend_after = await connection.fetchval("SELECT pg_backend_pid()")
            setting_after = await connection.fetchval(
                "SELECT current_setting('app.current_tenant_id', true)"
            )
            events_after = await connection.fetchval("SELECT count(*) FROM events")
    finally:
        await pool.close()

    assert events_inside == 1
    assert backend_after == backend_inside
    assert setting_after in ("", None)
    assert events_after == 0


async def test_nothing_is_kept_and_the_connection_is_reusable_when_the_transaction_body_fails(
    migrated_database_url: str, sale_of_tenant_a: Sale
) -> None:
    pool = await create_pool(service_url(migrated_database_url), min_size=1, max_size=1)
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            async with tenant_transaction(pool, sale_of_tenant_a.tenant_id) as connection:
                await connection.execute("UPDATE events SET name = 'Renamed'")
                await connection.execute("UPDATE events SET hold_ttl_s = 0")
        async with tenant_transaction(pool, sale_of_tenant_a.tenant_id) as connection:
            names = await connection.fetch("SELECT name FROM events")
    finally:
        await pool.close()

    assert [row["name"] for row in names] != ["Renamed"]
    assert len(names) == 1


async def test_tenant_that_is_not_a_uuid_is_refused_before_reaching_postgres(
    service_pool: asyncpg.Pool,
) -> None:
    with pytest.raises(ValueError, match="hexadecimal UUID"):
        async with tenant_transaction(service_pool, "x', true); DROP TABLE events; --"):  # type: ignore[arg-type]
            pass


async def test_nested_tenant_transaction_is_refused_when_the_connection_is_in_a_transaction(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, sale_of_tenant_b: Sale
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        with pytest.raises(AssertionError, match="two tenants"):
            async with tenant_transaction(connection, sale_of_tenant_b.tenant_id):
                pass


async def test_service_role_logs_in_with_its_password_when_one_is_set(
    migrated_database_url: str,
) -> None:
    await set_service_password(migrated_database_url, "s3cret'quote")
    connection = await asyncpg.connect(migrated_database_url)
    try:
        stored = await connection.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1", SERVICE_ROLE
        )
    finally:
        await connection.close()
    assert stored is not None and stored.startswith(("SCRAM-SHA-256$", "md5"))


async def test_service_role_cannot_read_the_systems_shared_secrets(
    service_pool: asyncpg.Pool,
) -> None:
    async with service_pool.acquire() as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.fetch("SELECT name, value FROM cluster_secrets")
