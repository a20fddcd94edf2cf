"""The event directory: which tenant owns an event, the one read allowed without a tenant. An
InventoryActor knows its event id and learns from it which tenant to act for; the supervisor
learns which events are this database's. persistence.event_repository writes each entry.
"""

import uuid

import asyncpg

SELECT_EVENT_TENANT = "SELECT owner_tenant_id FROM event_directory WHERE event_id = $1"


async def find_event_tenant(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection, *, event_id: uuid.UUID
) -> uuid.UUID | None:
    """The tenant an event belongs to, read without a tenant set; None for an unknown event."""
    tenant_id: uuid.UUID | None = await pool_or_connection.fetchval(SELECT_EVENT_TENANT, event_id)
    return tenant_id


COUNT_TENANT_EVENTS_AMONG = """
SELECT count(*) FROM event_directory
WHERE owner_tenant_id = $1 AND event_id = ANY($2::uuid[]) AND event_id <> $3
"""


async def count_other_tenant_events(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection,
    *,
    tenant_id: uuid.UUID,
    event_ids: list[uuid.UUID],
    but: uuid.UUID,
) -> int:
    """How many of `event_ids`, other than `but`, belong to the tenant; read without a tenant."""
    count: int = await pool_or_connection.fetchval(
        COUNT_TENANT_EVENTS_AMONG, tenant_id, event_ids, but
    )
    return count


SELECT_KNOWN_EVENTS = "SELECT event_id FROM event_directory WHERE event_id = ANY($1::uuid[])"


async def known_events(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection, *, event_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `event_ids` are events of this database, read without a tenant: a Ray cluster may
    host the actors of other systems, which are not this one's to manage."""
    rows = await pool_or_connection.fetch(SELECT_KNOWN_EVENTS, event_ids)
    return {row["event_id"] for row in rows}
