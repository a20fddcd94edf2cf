"""Tenants as the service meets them: named by the `tenant` claim of a signed token.

The service role cannot write `tenants`; it registers one through the owner's `register_tenant`
function (migration 0009), which only ever adds the tenant when absent. Caching is the caller's.
"""

import uuid

import asyncpg

REGISTER_TENANT = "SELECT register_tenant($1)"


async def register_tenant(connection: asyncpg.Connection, *, tenant_id: uuid.UUID) -> None:
    """Make `tenant_id` a tenant, if it is not one already; safe to repeat and to race."""
    await connection.execute(REGISTER_TENANT, tenant_id)
