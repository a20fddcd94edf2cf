"""The cluster's standing work, in one named actor: the outbox dispatcher and the workers it feeds
(minting, notifications), the actors of every busy event kept started (live holds must end on
time, and a waiting room with fans must tick even when nobody calls it; Ray restarts an actor
lazily), idle per-event actors retired so they hold no memory until their event is touched again,
stuck ones and a stuck dispatcher restarted (actors/watchdog), a periodic reconciliation of each
running inventory against Postgres, the payment reconciler's rounds (run on a payment worker)
that finish orders lost webhooks left pending, and the expiry of unused tickets a day after their
event ended, swept every round. Its loops survive any failure: they log it and go on at the next
round.

It is a composition root: it alone decides which consumers each outbox topic goes to.
"""

import asyncio
import logging

import asyncpg
import msgspec
import ray
from ray.actor import ActorHandle

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.inventory_actor import InventoryActor
from actors.inventory_figures import CountDifference, PipelineStats
from actors.lifecycle import RunningActors, running_event_actors
from actors.names import (
    NAMESPACE,
    inventory_actor_name,
    payment_worker_name,
    waiting_room_actor_name,
)
from actors.outbox_dispatcher import Consumer, OutboxDispatcher
from actors.outside_parts import OutsideParts
from actors.remote import inventory_actor, waiting_room_actor
from actors.standing_work import start_workers
from actors.waiting_room_actor import WaitingRoomActor
from actors.wall_clock import wall_clock_ms
from actors.watchdog import check_inventory, check_waiting_room
from actors.work_health import WorkHealth
from engine import limits
from persistence.busy_events import BusyEvent, list_busy_events
from persistence.database_errors import DATABASE_ERRORS
from persistence.event_directory import known_events
from persistence.inventory_outbox import OUTBOX_TOPICS
from persistence.outbox import OutboxBacklog, outbox_backlog
from persistence.pool import create_pool
from persistence.tenancy import tenant_transaction
from persistence.tenant_probes import tenants_to_supervise
from persistence.ticket_expiry import expire_unused_tickets

SUPERVISOR_POOL_SIZE_MAX = 2

OUTBOX_ROUTES: dict[str, tuple[Consumer, ...]] = {
    topic: () for topic in OUTBOX_TOPICS.values() if topic is not None
}
log = logging.getLogger(__name__)


class SupervisionReport(msgspec.Struct, frozen=True, kw_only=True):
    """`inventories_running` and `waiting_rooms_running` count the actors kept after retiring
    the idle ones; `retired` the actors stopped this round, `restarted` those found stuck."""

    busy_events: int
    inventories_running: int
    waiting_rooms_running: int
    reconciled_events: int
    differences: dict[str, list[CountDifference]]
    expired_tickets: int = 0
    retired: int = 0
    restarted: int = 0


class Supervisor:
    """`outside` is None only where a test supervises events without the outside world."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        access_secret: bytes,
        outside: OutsideParts | None = None,
        idle_retire_s: float = limits.ACTOR_IDLE_RETIRE_MS / limits.MILLISECONDS_PER_SECOND,
    ) -> None:
        self._database_url = database_url
        self._idle_retire_s = idle_retire_s
        self._redis_url = redis_url
        self._access_secret = access_secret
        self._outside = outside
        self._pool: asyncpg.Pool | None = None
        self._dispatcher: OutboxDispatcher | None = None
        self._running: list[asyncio.Task[None]] = []
        self._starting = asyncio.Lock()
        self._rounds = 0
        self._pipeline_stats: dict[str, PipelineStats] = {}
        self._routes: dict[str, tuple[Consumer, ...]] = {}
        self._health = WorkHealth(
            rounds=0,
            stuck_restarted=0,
            dispatcher_stalled_ms=0,
            outbox_oldest_due_age_ms=0,
            failed_work=0,
        )

    async def start(self) -> None:
        """Start the workers, the dispatcher and the loops once; calling again changes nothing,
        even while a first call, which its caller stopped waiting for, is still starting them."""
        async with self._starting:
            if self._running:
                return
            self._routes = dict(OUTBOX_ROUTES)
            if self._outside is not None:
                self._routes |= start_workers(self._database_url, self._outside)
                await self._open_payment_workers()
            self._dispatcher = OutboxDispatcher(
                database_url=self._database_url, routes=self._routes
            )
            await self._dispatcher.start()
            self._running.append(asyncio.create_task(self._supervise_forever()))
            if self._outside is not None:
                self._running.append(asyncio.create_task(self._reconcile_payments_forever()))

    async def _open_payment_workers(self) -> None:
        """Have the payment workers open their pools now rather than at their first refund or
        Stripe event, which the gateway asks for with only a few seconds to wait."""
        workers = [
            ray.get_actor(payment_worker_name(self._database_url, index), namespace=NAMESPACE)
            for index in range(limits.PAYMENT_WORKERS)
        ]
        opened = await asyncio.gather(
            *(
                actor_answer(
                    worker.start.remote(), timeout_s=limits.PAYMENT_WORKER_START_TIMEOUT_MS / 1_000
                )
                for worker in workers
            ),
            return_exceptions=True,
        )
        for failure in opened:
            if failure is not None:
                log.warning("a payment worker did not open", extra={"error": repr(failure)})

    async def pipeline_stats(self) -> dict[str, PipelineStats]:
        """Each live event's group-commit figures as of the last round, for /metrics."""
        return self._pipeline_stats

    async def health(self) -> WorkHealth:
        """How the standing work went as of the last round."""
        return self._health

    async def close(self) -> None:
        for task in self._running:
            task.cancel()
        if self._dispatcher is not None:
            await self._dispatcher.close()
        if self._pool is not None:
            await self._pool.close()

    async def _supervise_forever(self) -> None:
        while True:
            try:
                await self.supervise_round()
                await self._restart_dispatcher_if_stalled()
            except DATABASE_ERRORS as error:
                log.warning("supervision round failed", extra={"error": repr(error)})
            except Exception:
                log.exception("supervision round failed unexpectedly; the next round goes on")
            await asyncio.sleep(limits.SUPERVISOR_ROUND_INTERVAL_MS / 1_000)

    async def _restart_dispatcher_if_stalled(self) -> None:
        """A dispatcher whose loop stopped turning is replaced by a new one (the old one's
        deliveries in flight are cancelled: consumers take a message twice without harm)."""
        if self._dispatcher is None:
            return
        stalled_for_ms = self._dispatcher.stalled_for_ms()
        self._health = msgspec.structs.replace(self._health, dispatcher_stalled_ms=stalled_for_ms)
        if stalled_for_ms <= limits.DISPATCHER_STALLED_MAX_MS:
            return
        log.error("the outbox dispatcher is stuck; restarting it", extra={"ms": stalled_for_ms})
        stuck, self._dispatcher = self._dispatcher, None
        await stuck.close()
        self._dispatcher = OutboxDispatcher(database_url=self._database_url, routes=self._routes)
        await self._dispatcher.start()

    async def _reconcile_payments_forever(self) -> None:
        """Ask the first payment worker for a reconciler round at every interval: the Stripe calls
        run there, on the pool that refunds, not in the Supervisor."""
        while True:
            try:
                worker = ray.get_actor(
                    payment_worker_name(self._database_url, 0), namespace=NAMESPACE
                )
                await actor_answer(
                    worker.reconcile_payments.remote(wall_clock_ms()),
                    timeout_s=limits.PAYMENT_RECONCILE_ROUND_TIMEOUT_MS / 1_000,
                )
            except (ray.exceptions.RayError, ValueError, *ACTOR_CALL_ERRORS) as error:
                log.warning("payment reconciliation failed", extra={"error": repr(error)})
            await asyncio.sleep(limits.PAYMENT_RECONCILE_INTERVAL_MS / 1_000)

    async def supervise_round(
        self, *, reconcile: bool | None = None, now_ms: int | None = None
    ) -> SupervisionReport:
        """Retire the idle per-event actors, keep the busy events' started (reconciling them every
        few rounds, or when asked), and expire the unused tickets of events that ended a day
        before `now_ms` (default: now)."""
        if self._pool is None:
            self._pool = await create_pool(
                self._database_url, min_size=1, max_size=SUPERVISOR_POOL_SIZE_MAX
            )
        self._rounds += 1
        if reconcile is None:
            reconcile = self._rounds % limits.SUPERVISOR_RECONCILE_EVERY_ROUNDS == 0
        busy, expired_tickets, backlog = await self._walk_tenants(
            wall_clock_ms() if now_ms is None else now_ms
        )
        holding = {str(event.event_id) for event in busy if event.has_live_holds}
        queueing = {str(event.event_id) for event in busy if event.has_fans_waiting}
        running = await self._running_actors()
        retired = await self._retire_idle(running, holding, queueing)
        inventories = sorted((running.inventories - retired.inventories) | holding)
        rooms = sorted((running.rooms - retired.rooms) | queueing)
        checked = await asyncio.gather(
            *(
                check_inventory(self._inventory(event_id), inventory_actor_name(event_id))
                for event_id in inventories
            ),
            *(
                check_waiting_room(self._waiting_room(event_id), waiting_room_actor_name(event_id))
                for event_id in rooms
            ),
        )
        inventory_checks = checked[: len(inventories)]
        self._pipeline_stats = {
            event_id: check.stats
            for event_id, check in zip(inventories, inventory_checks, strict=True)
            if check.stats is not None
        }
        restarted = sum(check.restarted for check in checked)
        differences = await self._reconcile_answering() if reconcile else {}
        self._health = msgspec.structs.replace(
            self._health,
            rounds=self._rounds,
            stuck_restarted=restarted,
            outbox_oldest_due_age_ms=backlog.oldest_due_age_ms or 0,
            failed_work=backlog.failed_work,
        )
        return SupervisionReport(
            busy_events=len(busy),
            inventories_running=len(inventories),
            waiting_rooms_running=len(rooms),
            reconciled_events=len(self._pipeline_stats) if reconcile else 0,
            differences=differences,
            expired_tickets=expired_tickets,
            retired=len(retired.inventories) + len(retired.rooms),
            restarted=restarted,
        )

    async def _reconcile_answering(self) -> dict[str, list[CountDifference]]:
        """Ask each inventory that answered this round to compare its memory with Postgres; the
        differences found, per event."""
        differences: dict[str, list[CountDifference]] = {}
        for event_id in self._pipeline_stats:
            try:
                found: list[CountDifference] = await actor_answer(
                    self._inventory(event_id).reconcile.remote(),
                    timeout_s=limits.SUPERVISOR_RECONCILE_TIMEOUT_MS / 1_000,
                )
            except (*ACTOR_CALL_ERRORS, RuntimeError) as error:
                log.warning(
                    "reconciliation failed", extra={"event_id": event_id, "error": repr(error)}
                )
                continue
            if found:
                differences[event_id] = found
        return differences

    async def _running_actors(self) -> RunningActors:
        """This system's per-event actors that are alive (the cluster may host other systems')."""
        assert self._pool is not None
        running = await asyncio.to_thread(running_event_actors)
        ours = {
            str(event_id)
            for event_id in await known_events(self._pool, event_ids=running.event_ids)
        }
        return RunningActors(inventories=running.inventories & ours, rooms=running.rooms & ours)

    async def _retire_idle(
        self, running: RunningActors, holding: set[str], queueing: set[str]
    ) -> RunningActors:
        """Ask each running per-event actor that Postgres does not show busy to retire, and stop
        those that did; which ones were stopped."""
        candidates = [
            (inventory_actor_name(event_id), event_id, True)
            for event_id in sorted(running.inventories - holding)
        ] + [
            (waiting_room_actor_name(event_id), event_id, False)
            for event_id in sorted(running.rooms - queueing)
        ]
        inventories: set[str] = set()
        rooms: set[str] = set()
        for name, event_id, is_inventory in candidates:
            try:
                handle = ray.get_actor(name, namespace=NAMESPACE)
                if not await actor_answer(
                    handle.retire.remote(self._idle_retire_s),
                    timeout_s=limits.SUPERVISOR_RETIRE_TIMEOUT_MS / 1_000,
                ):
                    continue
                ray.kill(handle, no_restart=True)
            except (ValueError, *ACTOR_CALL_ERRORS) as error:
                log.warning("retiring failed", extra={"actor": name, "error": repr(error)})
                continue
            (inventories if is_inventory else rooms).add(event_id)
        return RunningActors(inventories=frozenset(inventories), rooms=frozenset(rooms))

    async def _walk_tenants(self, now_ms: int) -> tuple[list[BusyEvent], int, OutboxBacklog]:
        """Every tenant's busy events, how many tickets expired, and the outbox's backlog over
        every tenant: one transaction for each tenant that may have any of them."""
        assert self._pool is not None
        async with self._pool.acquire(
            timeout=limits.DATABASE_ACQUIRE_TIMEOUT_MS / 1_000
        ) as connection:
            tenants = await tenants_to_supervise(connection, now_ms=now_ms)
        events: list[BusyEvent] = []
        expired_tickets = 0
        oldest_due_age_ms = 0
        failed_work = 0
        for tenant_id in tenants:
            async with tenant_transaction(self._pool, tenant_id) as connection:
                events.extend(await list_busy_events(connection))
                expired_tickets += await expire_unused_tickets(connection, now_ms=now_ms)
                backlog = await outbox_backlog(connection)
            oldest_due_age_ms = max(oldest_due_age_ms, backlog.oldest_due_age_ms or 0)
            failed_work += backlog.failed_work
        return (
            events,
            expired_tickets,
            OutboxBacklog(oldest_due_age_ms=oldest_due_age_ms, failed_work=failed_work),
        )

    def _inventory(self, event_id: str) -> ActorHandle[InventoryActor]:
        """The event's InventoryActor, started if it is not running."""
        return inventory_actor(event_id, self._database_url)

    def _waiting_room(self, event_id: str) -> ActorHandle[WaitingRoomActor]:
        """The event's WaitingRoomActor, started if it is not running."""
        return waiting_room_actor(
            event_id, self._database_url, self._redis_url, self._access_secret
        )
