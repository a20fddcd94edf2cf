"""The cluster's standing work, in one named actor: the outbox dispatcher, every live event's actors
kept started (Ray restarts an actor lazily; a waiting room must tick even when nobody calls it),
and a periodic reconciliation of each inventory against Postgres.

It is a composition root: it alone decides which consumers each outbox topic goes to.
"""

import asyncio
import logging
import uuid

import asyncpg
import msgspec
import ray

from actors.inventory_actor import CountDifference, PipelineStats
from actors.lifecycle import DATABASE_ERRORS
from actors.outbox_dispatcher import Consumer, OutboxDispatcher
from actors.remote import inventory_actor, waiting_room_actor
from engine import limits
from persistence.event_repository import LiveEvent, list_live_events
from persistence.inventory_repository import OUTBOX_TOPICS
from persistence.outbox import list_tenants
from persistence.pool import create_pool
from persistence.tenancy import tenant_transaction

SUPERVISOR_POOL_SIZE_MAX = 2

OUTBOX_ROUTES: dict[str, tuple[Consumer, ...]] = {
    topic: () for topic in OUTBOX_TOPICS.values() if topic is not None
}
log = logging.getLogger(__name__)


class SupervisionReport(msgspec.Struct, frozen=True, kw_only=True):
    live_events: int
    waiting_rooms_started: int
    reconciled_events: int
    differences: dict[str, list[CountDifference]]


class Supervisor:
    def __init__(self, *, database_url: str, redis_url: str, access_secret: bytes) -> None:
        self._database_url = database_url
        self._redis_url = redis_url
        self._access_secret = access_secret
        self._pool: asyncpg.Pool | None = None
        self._dispatcher: OutboxDispatcher | None = None
        self._running: asyncio.Task[None] | None = None
        self._rounds = 0
        self._pipeline_stats: dict[str, PipelineStats] = {}

    async def start(self) -> None:
        """Start the dispatcher and the supervision loop once; calling again changes nothing."""
        if self._running is not None:
            return
        self._dispatcher = OutboxDispatcher(database_url=self._database_url, routes=OUTBOX_ROUTES)
        await self._dispatcher.start()
        self._running = asyncio.create_task(self._supervise_forever())

    async def pipeline_stats(self) -> dict[str, PipelineStats]:
        """Each live event's group-commit figures as of the last round, for /metrics."""
        return self._pipeline_stats

    async def close(self) -> None:
        if self._running is not None:
            self._running.cancel()
        if self._dispatcher is not None:
            await self._dispatcher.close()
        if self._pool is not None:
            await self._pool.close()

    async def _supervise_forever(self) -> None:
        while True:
            try:
                await self.supervise_round()
            except DATABASE_ERRORS as error:
                log.warning("supervision round failed", extra={"error": repr(error)})
            await asyncio.sleep(limits.SUPERVISOR_ROUND_INTERVAL_MS / 1_000)

    async def supervise_round(self, *, reconcile: bool | None = None) -> SupervisionReport:
        """Start the actors of every live event; reconcile them every few rounds (or when asked)."""
        if self._pool is None:
            self._pool = await create_pool(
                self._database_url, min_size=1, max_size=SUPERVISOR_POOL_SIZE_MAX
            )
        self._rounds += 1
        if reconcile is None:
            reconcile = self._rounds % limits.SUPERVISOR_RECONCILE_EVERY_ROUNDS == 0
        events = await self._live_events()
        rooms = [event for event in events if event.waiting_room_enabled]
        stats = await asyncio.gather(*(self._inventory(event).stats.remote() for event in events))
        self._pipeline_stats = {
            str(event.event_id): event_stats
            for event, event_stats in zip(events, stats, strict=True)
        }
        await asyncio.gather(*(self._waiting_room(event).ready.remote() for event in rooms))
        differences: dict[str, list[CountDifference]] = {}
        if reconcile:
            for event in events:
                found = await self._inventory(event).reconcile.remote()
                if found:
                    differences[str(event.event_id)] = found
        return SupervisionReport(
            live_events=len(events),
            waiting_rooms_started=len(rooms),
            reconciled_events=len(events) if reconcile else 0,
            differences=differences,
        )

    async def _live_events(self) -> list[LiveEvent]:
        assert self._pool is not None
        async with self._pool.acquire() as connection:
            tenants: list[uuid.UUID] = await list_tenants(connection)
        events: list[LiveEvent] = []
        for tenant_id in tenants:
            async with tenant_transaction(self._pool, tenant_id) as connection:
                events.extend(await list_live_events(connection))
        return events

    def _inventory(self, event: LiveEvent) -> ray.actor.ActorHandle:
        return inventory_actor(str(event.event_id), self._database_url)

    def _waiting_room(self, event: LiveEvent) -> ray.actor.ActorHandle:
        return waiting_room_actor(
            str(event.event_id), self._database_url, self._redis_url, self._access_secret
        )
