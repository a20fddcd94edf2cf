"""Which tenants a standing loop must visit, asked of every tenant inside Postgres in one round
trip (migration 0036), so a loop's round costs little for the tenants with nothing to do.

A probe is coarse on purpose: it names a tenant that may have work, and the loop's visit, in the
tenant's own transaction, decides what that work is.
"""

import uuid

import asyncpg

SELECT_TENANTS_WITH_DUE_OUTBOX = "SELECT tenant_id FROM tenants_with_due_outbox() AS tenant_id"
SELECT_TENANTS_WITH_UNSETTLED_PAYMENTS = (
    "SELECT tenant_id FROM tenants_with_unsettled_payments() AS tenant_id"
)


async def tenants_with_due_messages(connection: asyncpg.Connection) -> list[uuid.UUID]:
    """The tenants with an outbox message pending and due now, for the outbox dispatcher."""
    return [row["tenant_id"] for row in await connection.fetch(SELECT_TENANTS_WITH_DUE_OUTBOX)]


async def tenants_with_unsettled_payments(connection: asyncpg.Connection) -> list[uuid.UUID]:
    """The tenants with an order waiting for its payment or its tickets, or a refund not yet
    finished, for the payment reconciler."""
    rows = await connection.fetch(SELECT_TENANTS_WITH_UNSETTLED_PAYMENTS)
    return [row["tenant_id"] for row in rows]
