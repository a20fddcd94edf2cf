"""Which tenants sold to a fan, read before any tenant is known.

Orders are fenced by their event's tenant, while a fan buys from the events of many tenants.
Migration 0033 records each buyer's tenants as orders are inserted, so a fan's order listing
visits only the tenants that sold them something.
"""

import uuid

import asyncpg

SELECT_SELLER_TENANTS = """
SELECT seller_tenant_id FROM order_buyer_directory
WHERE buyer_user_id = $1
ORDER BY seller_tenant_id
LIMIT $2
"""


async def tenants_selling_to(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection, *, buyer_user_id: str, limit: int
) -> list[uuid.UUID]:
    rows = await pool_or_connection.fetch(SELECT_SELLER_TENANTS, buyer_user_id, limit)
    return [row["seller_tenant_id"] for row in rows]
