"""What the actors that own an event's state share: the UNAVAILABLE and refused-data answers, the
pool they open on their event's tenant, the cap on a tenant's events with live actors, a start
that runs lazily, once, and again after it failed (Ray re-creates a restarted actor by calling
`__init__`, never `start`), the retirement of an idle instance, and the end of one whose loop
failed: it crashes, so Ray restarts it from Postgres.
"""

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn

import asyncpg
import msgspec
import ray

from actors.names import INVENTORY_PREFIX, NAMESPACE, WAITING_ROOM_PREFIX
from engine import limits
from engine.rejections import Reason, Rejected
from persistence.database_errors import DATABASE_ERRORS
from persistence.event_directory import count_other_tenant_events, find_event_tenant
from persistence.pool import create_pool

ACTOR_POOL_SIZE_MAX = 2
# The exit status of an actor whose loop failed: any crash makes Ray start it again.
LOOP_FAILED_EXIT_STATUS = 70
log = logging.getLogger(__name__)


def crash(actor: str, error: BaseException) -> NoReturn:
    """End this actor's process because one of its loops failed on something it does not expect
    (a bug: STYLE.md rule 6): Ray starts it again, and it rebuilds from Postgres. Requests in
    flight get an actor error their clients retry. Outside Ray (an instance a test runs in its
    own process) the error is raised instead."""
    log.critical(
        "an actor loop failed; the actor restarts", extra={"actor": actor, "error": repr(error)}
    )
    if ray.is_initialized() and ray.get_runtime_context().get_actor_id() is not None:
        logging.shutdown()
        os._exit(LOOP_FAILED_EXIT_STATUS)
    raise error


def start_loop(actor: str, loop: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Run one of the actor's loops as a task; if it ever fails, the actor crashes (`crash`),
    never lingers with a dead loop that leaves its callers waiting."""

    async def run() -> None:
        try:
            await loop
        except asyncio.CancelledError:
            raise
        except Exception as error:
            crash(actor, error)

    return asyncio.create_task(run())


class ActorRetired(Exception):
    """This instance retired and did nothing; a new one, started by the client, takes the call."""


class TenantAtCapacity(Exception):
    """The event's tenant already has LIVE_EVENTS_PER_TENANT_MAX other events with live actors."""


def unavailable(message: str) -> Rejected:
    return Rejected(reason=Reason.UNAVAILABLE, message=message)


def refused_data() -> Rejected:
    return Rejected(
        reason=Reason.VALIDATION_ERROR,
        message="the request holds data the service cannot store (a NUL character, say)",
    )


class RunningActors(msgspec.Struct, frozen=True, kw_only=True):
    """The events (ids as text) whose InventoryActor, and whose WaitingRoomActor, are alive."""

    inventories: frozenset[str]
    rooms: frozenset[str]

    @property
    def event_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(event_id) for event_id in self.inventories | self.rooms]


def running_event_actors() -> RunningActors:
    """The per-event actors alive in the cluster's namespace: one blocking call to Ray's control
    plane, so async callers run it in a thread."""
    names = [
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == NAMESPACE
    ]
    return RunningActors(
        inventories=frozenset(
            name.removeprefix(INVENTORY_PREFIX)
            for name in names
            if name.startswith(INVENTORY_PREFIX)
        ),
        rooms=frozenset(
            name.removeprefix(WAITING_ROOM_PREFIX)
            for name in names
            if name.startswith(WAITING_ROOM_PREFIX)
        ),
    )


async def check_tenant_capacity(
    pool: asyncpg.Pool, *, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> None:
    """Raise TenantAtCapacity when the tenant's other events with live actors reach the cap. Two
    events of one tenant starting at the same instant may both pass: the cap is held to within
    the starts in flight."""
    running = await asyncio.to_thread(running_event_actors)
    others = await count_other_tenant_events(
        pool, tenant_id=tenant_id, event_ids=running.event_ids, but=event_id
    )
    if others >= limits.LIVE_EVENTS_PER_TENANT_MAX:
        raise TenantAtCapacity(
            "this venue already has the most events live at once "
            f"({limits.LIVE_EVENTS_PER_TENANT_MAX}); retry shortly"
        )


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
        self.failure: BaseException | None = None

    async def __call__(self) -> bool:
        """True once started; False while `start` fails with one of `errors` (kept as `failure`)."""
        if self._task is None or (self._task.done() and self._task.exception()):
            self._task = asyncio.ensure_future(self._start())
        try:
            await asyncio.shield(self._task)
        except self._errors as error:
            self.failure = error
            log.warning(f"{self._name} cannot start", extra={"error": repr(error)})
            return False
        self.failure = None
        return True

    @property
    def has_started(self) -> bool:
        return self._task is not None and self._task.done() and self._task.exception() is None

    def why_not_started(self, default: str) -> str:
        """What to tell a caller while the start fails: a refusal's own words, else `default`."""
        if isinstance(self.failure, TenantAtCapacity):
            return str(self.failure)
        return default
