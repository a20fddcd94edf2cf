"""Which tenant a transaction acts for: `app.current_tenant_id`, set for one transaction only.

Row-level security reads that setting, so every query on tenant-owned tables runs inside
`tenant_transaction`. It is always set with `set_config(..., true)` (transaction-local), never a
session SET, so a pooled connection can never carry one tenant into another's work.

The transaction begins and takes its tenant in one round trip to Postgres: `BEGIN` and the
`set_config` go together as one simple query, with the tenant written into it as a literal (a
UUID, so nothing else can be). Every transaction of the service pays that round trip, and the
group commit's share of the actor's time is mostly round trips, so a check the transaction must
pass before it writes anything (the inventory's epoch fence) can ride in the same round trip.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

BEGIN_FOR_TENANT = "BEGIN; SELECT set_config('app.current_tenant_id', '{tenant_id}', true)"


@asynccontextmanager
async def tenant_transaction(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection,
    tenant_id: uuid.UUID,
    *,
    opening_check: str | None = None,
) -> AsyncIterator[asyncpg.Connection]:
    """Open a transaction acting for `tenant_id` and yield its connection; commit on exit.

    `opening_check`, a statement built by this service from values it has checked (never from
    a request's text), runs in the opening round trip; if it raises, so does this, and the
    transaction is rolled back before anything is written.
    """
    if isinstance(pool_or_connection, asyncpg.Pool):
        async with (
            pool_or_connection.acquire() as connection,
            _transaction_for(connection, tenant_id, opening_check),
        ):
            yield connection
    else:
        async with _transaction_for(pool_or_connection, tenant_id, opening_check):
            yield pool_or_connection


@asynccontextmanager
async def _transaction_for(
    connection: asyncpg.Connection, tenant_id: uuid.UUID, opening_check: str | None
) -> AsyncIterator[None]:
    assert not connection.is_in_transaction(), (
        "tenant_transaction opens the transaction itself; a nested one could act for two tenants"
    )
    opening = BEGIN_FOR_TENANT.format(tenant_id=uuid.UUID(str(tenant_id)))
    if opening_check is not None:
        opening = f"{opening}; {opening_check}"
    try:
        await connection.execute(opening)
        yield
    except BaseException:
        if not connection.is_closed() and connection.is_in_transaction():
            await connection.execute("ROLLBACK")
        raise
    await connection.execute("COMMIT")
