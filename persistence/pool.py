"""The service's connection pool: asyncpg connections as the role that owns nothing.

The service never connects as the owner: a role that owns the tables or bypasses row-level
security would see every tenant, so `create_pool` refuses one. Pool sizes are the limits below. A
pool that serves requests bounds each statement and each wait for a connection, so a Postgres that
stops answering fails a request in a bounded time rather than holding it.

A connection goes back to the pool without asyncpg's session reset (`RESET ALL`, `CLOSE ALL`,
`UNLISTEN *`, advisory unlocks): the service keeps no session state on pooled connections (its
settings are transaction-local, see persistence/tenancy.py; it opens no cursor outside a
transaction, listens to nothing and takes no advisory lock), so the reset was a round trip to
Postgres on every release that changed nothing. asyncpg still rolls back a transaction left open.
"""

from typing import Any

import asyncpg
from asyncpg.pool import PoolAcquireContext

from persistence.dsn import with_user

SERVICE_ROLE = "onsale_service"

POOL_SIZE_MIN = 2
POOL_SIZE_MAX = 20
POOL_COMMAND_TIMEOUT_S = 10.0
POOL_CONNECT_TIMEOUT_S = 10.0
# A connection idle this long is closed: a pool a burst grew gives its connections back to
# Postgres, whose slots every gateway, worker and event actor of the cluster share, soon after.
POOL_IDLE_CONNECTION_LIFETIME_S = 30.0
POOL_QUERIES_PER_CONNECTION_MAX = 50_000


# asyncpg ships no type stubs, so to mypy its Pool is Any and subclassing it is untyped.
class ServicePool(asyncpg.Pool):  # type: ignore[misc]
    """An asyncpg pool whose acquisitions that name no timeout wait at most `connection_wait_s`
    for a connection (None: as long as it takes). asyncpg gives the release of the connection as
    long to wait for a timed-out statement's cancellation, then drops the connection."""

    def __init__(self, *connect_arguments: Any, connection_wait_s: float | None, **options: Any):
        super().__init__(*connect_arguments, **options)
        self._connection_wait_s = connection_wait_s

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return super().acquire(timeout=self._connection_wait_s if timeout is None else timeout)


class UnfencedRoleError(RuntimeError):
    """The pool's role could see every tenant: it is a superuser, bypasses RLS or owns tables."""


def service_url(owner_url: str, password: str | None = None) -> str:
    """The URL of the service role on the owner's server and database."""
    return with_user(owner_url, SERVICE_ROLE, password)


SELECT_ROLE_FENCE = """
SELECT roles.rolname AS role_name,
       roles.rolsuper AS is_superuser,
       roles.rolbypassrls AS bypasses_row_security,
       (SELECT count(*) FROM pg_class
        WHERE pg_class.relowner = roles.oid AND pg_class.relkind IN ('r', 'p')) AS owned_tables
FROM pg_roles AS roles
WHERE roles.rolname = current_user
"""


async def check_role_is_fenced(connection: asyncpg.Connection) -> None:
    """Raise UnfencedRoleError unless row-level security binds the connection's role."""
    row = await connection.fetchrow(SELECT_ROLE_FENCE)
    assert row is not None, "current_user has no pg_roles row"
    if row["is_superuser"] or row["bypasses_row_security"] or row["owned_tables"]:
        raise UnfencedRoleError(
            f"role {row['role_name']} is a superuser, bypasses row-level security or owns "
            f"tables; connect the service as {SERVICE_ROLE}"
        )


async def create_pool(
    url: str,
    *,
    min_size: int = POOL_SIZE_MIN,
    max_size: int = POOL_SIZE_MAX,
    statement_timeout_s: float = POOL_COMMAND_TIMEOUT_S,
    connection_wait_s: float | None = None,
) -> asyncpg.Pool:
    """Open the service pool on `url` (see `service_url`) after checking its role is fenced. A
    statement gives up after `statement_timeout_s`; an acquisition, see `ServicePool`."""
    pool = await ServicePool(
        url,
        connection_wait_s=connection_wait_s,
        min_size=min_size,
        max_size=max_size,
        command_timeout=statement_timeout_s,
        timeout=POOL_CONNECT_TIMEOUT_S,
        max_inactive_connection_lifetime=POOL_IDLE_CONNECTION_LIFETIME_S,
        max_queries=POOL_QUERIES_PER_CONNECTION_MAX,
        setup=None,
        init=None,
        reset=_keep_session,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
    )
    try:
        async with pool.acquire() as connection:
            await check_role_is_fenced(connection)
    except BaseException:
        await pool.close()
        raise
    return pool


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset: see the module's docstring."""


async def set_service_password(owner_url: str, password: str) -> None:
    """Give the service role the password its URL carries, for servers that require one."""
    connection = await asyncpg.connect(owner_url)
    try:
        quoted = await connection.fetchval("SELECT quote_literal($1)", password)
        await connection.execute(f"ALTER ROLE {SERVICE_ROLE} PASSWORD {quoted}")
    finally:
        await connection.close()
