"""Which tenants a standing loop must visit, asked of every tenant inside Postgres in one round
trip (migration 0036), so a loop's round costs little for the tenants with nothing to do.

A probe is coarse on purpose: it names a tenant that may have work, and the loop's visit, in the
tenant's own transaction, decides what that work is.
"""

import uuid

import asyncpg

from persistence.ticket_expiry import EXPIRING_STATUSES, expiring_events_ended_before_ms

SELECT_TENANTS_WITH_DUE_OUTBOX = "SELECT tenant_id FROM tenants_with_due_outbox() AS tenant_id"
SELECT_TENANTS_WITH_UNSETTLED_PAYMENTS = (
    "SELECT tenant_id FROM tenants_with_unsettled_payments() AS tenant_id"
)
SELECT_TENANTS_TO_SUPERVISE = (
    "SELECT tenant_id FROM tenants_to_supervise($1::bigint, $2::text[]) AS tenant_id"
)


async def tenants_with_due_messages(connection: asyncpg.Connection) -> list[uuid.UUID]:
    """The tenants with an outbox message pending and due now, for the outbox dispatcher."""
    return [row["tenant_id"] for row in await connection.fetch(SELECT_TENANTS_WITH_DUE_OUTBOX)]


async def tenants_with_unsettled_payments(connection: asyncpg.Connection) -> list[uuid.UUID]:
    """The tenants with an order waiting for its payment or its tickets, or a refund not yet
    finished, for the payment reconciler."""
    rows = await connection.fetch(SELECT_TENANTS_WITH_UNSETTLED_PAYMENTS)
    return [row["tenant_id"] for row in rows]


async def tenants_to_supervise(connection: asyncpg.Connection, *, now_ms: int) -> list[uuid.UUID]:
    """The tenants with a live hold, an open event with a waiting room, a pending outbox message
    or an unused ticket that expires at `now_ms`, for the Supervisor's round (migration 0038)."""
    rows = await connection.fetch(
        SELECT_TENANTS_TO_SUPERVISE, expiring_events_ended_before_ms(now_ms), EXPIRING_STATUSES
    )
    return [row["tenant_id"] for row in rows]
