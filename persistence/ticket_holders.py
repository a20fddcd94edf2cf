"""Which tenants hold tickets of a fan, read before any tenant is known.

Tickets are fenced by their event's tenant, while a fan's tickets may come from the events of many
tenants. Migration 0015 records each ticket owner's tenants as tickets are inserted, so a fan's
listing visits only the tenants that hold something of theirs.
"""

import uuid

import asyncpg

SELECT_HOLDER_TENANTS = """
SELECT holder_tenant_id FROM ticket_holder_directory
WHERE owner_user_id = $1
ORDER BY holder_tenant_id
LIMIT $2
"""


async def tenants_holding_tickets_of(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection, *, owner_user_id: str, limit: int
) -> list[uuid.UUID]:
    rows = await pool_or_connection.fetch(SELECT_HOLDER_TENANTS, owner_user_id, limit)
    return [row["holder_tenant_id"] for row in rows]
