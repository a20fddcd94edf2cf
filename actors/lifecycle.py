"""What the actors that own an event's state share: the wall clock they are handed by default, the
UNAVAILABLE answer, the errors that mean Postgres cannot be reached, the pool they open on their
event's tenant, and a start that runs lazily, once, and again after it failed (Ray re-creates a
restarted actor by calling `__init__`, never `start`).
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from engine.rejections import Reason, Rejected
from persistence.event_repository import find_event_tenant
from persistence.pool import create_pool

ACTOR_POOL_SIZE_MAX = 2
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)
log = logging.getLogger(__name__)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def unavailable(message: str) -> Rejected:
    return Rejected(reason=Reason.UNAVAILABLE, message=message)


async def open_event_pool(database_url: str, event_id: uuid.UUID) -> tuple[asyncpg.Pool, uuid.UUID]:
    """A small pool as the service role, and the tenant the event belongs to."""
    pool = await create_pool(database_url, min_size=1, max_size=ACTOR_POOL_SIZE_MAX)
    try:
        async with pool.acquire() as connection:
            tenant_id = await find_event_tenant(connection, event_id=event_id)
    except BaseException:
        await pool.close()
        raise
    assert tenant_id is not None, f"event {event_id} does not exist"
    return pool, tenant_id


class LazyStart:
    """Runs `start` on first need; after a failure, the next caller tries again."""

    def __init__(
        self,
        start: Callable[[], Awaitable[None]],
        *,
        name: str,
        errors: tuple[type[BaseException], ...] = DATABASE_ERRORS,
    ) -> None:
        self._start = start
        self._name = name
        self._errors = errors
        self._task: asyncio.Future[None] | None = None

    async def __call__(self) -> bool:
        """True once started; False while `start` fails with one of `errors`."""
        if self._task is None or (self._task.done() and self._task.exception()):
            self._task = asyncio.ensure_future(self._start())
        try:
            await asyncio.shield(self._task)
        except self._errors as error:
            log.warning(f"{self._name} cannot start", extra={"error": repr(error)})
            return False
        return True
