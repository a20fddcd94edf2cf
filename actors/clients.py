"""The typed facade through which the gateway reaches Ray; no other gateway module imports ray.

`InventoryClient` is the live batcher of one event: requests that arrive while its batches are in
flight wait and leave together as the next batch (bounded), one actor call per batch, at most
`CLIENT_BATCHES_IN_FLIGHT_MAX` batches at a time so the actor can decide one while Postgres commits
another. It rides through an actor restart by retrying keyed commands, which the engine
deduplicates; a command without a key cannot be retried safely and is answered UNAVAILABLE instead.
A caller's deadline (a request's, handed in as `deadline_s`) bounds its wait: each call waits only
the time left, and the retries stop at it with UNAVAILABLE (a keyed command still in flight may
land, and its retry finds it). Commands start the event's actor if it is not running (it retires
when idle); reads never do.

`WaitingRoomClient` batches joins the same way; a join is safe to retry (a fan keeps one place),
so it always rides through a restart. Polls never reach the actor: `queue_position` answers them
from Redis and records them for the actor's next tick.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import ray

from actors.call_errors import ACTOR_CALL_ERRORS
from actors.inventory_actor import COMMANDS_ENCODER, RESULTS_DECODER, PipelineStats
from actors.inventory_actor import InventorySnapshot as InventorySnapshot
from actors.lifecycle import ActorRetired, unavailable
from actors.lifecycle import wall_clock_ms as wall_clock_ms
from actors.names import NAMESPACE, SUPERVISOR_NAME, inventory_actor_name
from actors.remote import EVENT_ACTOR_SLOT, inventory_actor, supervisor, waiting_room_actor
from actors.remote import node_resources as node_resources
from actors.standing_work import OutsideParts as OutsideParts
from actors.waiting_room_publication import PublishedRoom as PublishedRoom
from actors.waiting_room_publication import published_room as published_room
from actors.waiting_room_publication import queue_position as queue_position
from actors.work_health import WorkHealth as WorkHealth
from engine import limits
from engine.commands import Command
from engine.outcomes import Outcome
from engine.rejections import Reason, Rejected
from engine.waiting_room.commands import ChangeWaitingRoomSettings
from engine.waiting_room.views import PlaceView, QueueCounts

CLUSTER_CHECK_TIMEOUT_S = 2.0
# A call meets a retired instance at most once or twice: the next one it starts is fresh.
RETIRED_INSTANCES_PER_CALL_MAX = 3
RAY_NAMESPACE = NAMESPACE

Result = Outcome | Rejected
T = TypeVar("T")
log = logging.getLogger(__name__)
JoinResult = PlaceView | Rejected
# The moment (time.monotonic) by which the caller must have its answer; None if it has no deadline.
DeadlineSource = Callable[[], float | None]
MILLISECONDS_PER_SECOND = 1_000


def no_deadline() -> float | None:
    """The deadline of a caller that has none, such as the Supervisor's own calls."""
    return None


def time_left_s(deadline_s: float | None) -> float:
    """How long a call may wait for a caller with `deadline_s`: the time left (0 once past), never
    more than a call's bound."""
    bound_s = limits.CLIENT_CALL_TIMEOUT_MS / MILLISECONDS_PER_SECOND
    if deadline_s is None:
        return bound_s
    return min(bound_s, max(0.0, deadline_s - time.monotonic()))


def _cluster_serves_events() -> bool:
    """Connected to a cluster with CPUs and slots for per-event actors: a node started without
    `node_resources` could host none, and every event's first call would wait forever."""
    if not ray.is_initialized():
        return False
    resources = ray.cluster_resources()
    return resources.get("CPU", 0) > 0 and resources.get(EVENT_ACTOR_SLOT, 0) > 0


async def actor_answer(reference: Awaitable[T], *, timeout_s: float) -> T:
    """The answer of one actor call, awaited in the caller's own task. `asyncio.wait_for` would
    await it in a task of its own, and the answer would reach the caller two turns of the event
    loop later: at a sale's peak every turn waits behind many requests."""
    async with asyncio.timeout(timeout_s):
        return await reference


async def cluster_is_ready() -> bool:
    """True when this process is connected to a Ray cluster that can host per-event actors."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_cluster_serves_events), timeout=CLUSTER_CHECK_TIMEOUT_S
        )
    except (TimeoutError, ConnectionError, RuntimeError):
        return False


async def pipeline_stats() -> dict[str, PipelineStats]:
    """The Supervisor's latest group-commit figures per live event; empty if it is not running."""
    try:
        handle = ray.get_actor(SUPERVISOR_NAME, namespace=NAMESPACE)
        return dict(
            await actor_answer(handle.pipeline_stats.remote(), timeout_s=CLUSTER_CHECK_TIMEOUT_S)
        )
    except (ValueError, *ACTOR_CALL_ERRORS):
        return {}


async def work_health() -> WorkHealth | None:
    """How the cluster's standing work goes, from the Supervisor's last round; None when the
    Supervisor does not answer."""
    try:
        handle = ray.get_actor(SUPERVISOR_NAME, namespace=NAMESPACE)
        health: WorkHealth = await actor_answer(
            handle.health.remote(), timeout_s=CLUSTER_CHECK_TIMEOUT_S
        )
    except (ValueError, *ACTOR_CALL_ERRORS):
        return None
    return health


async def keep_supervisor_running(
    database_url: str,
    redis_url: str,
    access_secret: bytes,
    outside: OutsideParts,
    *,
    idle_retire_s: float = limits.ACTOR_IDLE_RETIRE_S,
) -> None:
    """Start the cluster's Supervisor and start it again whenever Ray has restarted it; the first
    gateway's `idle_retire_s` is the one the cluster's Supervisor keeps."""
    handle = supervisor(database_url, redis_url, access_secret, outside, idle_retire_s)
    while True:
        try:
            await handle.start.remote()
        except ACTOR_CALL_ERRORS:
            log.warning("the supervisor is not answering; it will be started again")
        await asyncio.sleep(limits.SUPERVISOR_ROUND_INTERVAL_MS / 1_000)


Answer = TypeVar("Answer")
Waiting = TypeVar("Waiting", bound="Pending[Any]")


class Pending(Generic[Answer]):
    """A caller waiting for its answer from a batch, until its deadline."""

    __slots__ = ("deadline_s", "future")

    def __init__(self, deadline_s: float | None, future: asyncio.Future[Answer]) -> None:
        self.deadline_s = deadline_s
        self.future = future

    def answer(self, result: Answer) -> None:
        if not self.future.done():
            self.future.set_result(result)


class PendingCommand(Pending[Result]):
    __slots__ = ("command",)

    def __init__(
        self, command: Command, deadline_s: float | None, future: asyncio.Future[Result]
    ) -> None:
        super().__init__(deadline_s, future)
        self.command = command


def still_awaited(waiting: list[Waiting], late: Rejected) -> list[Waiting]:
    """Those of `waiting` with time left; the others are answered `late` now."""
    left = []
    for pending in waiting:
        if pending.future.done():
            continue
        if time_left_s(pending.deadline_s) > 0:
            left.append(pending)
        else:
            pending.answer(late)
    return left


def call_wait_s(waiting: list[Waiting]) -> float:
    """How long one call for `waiting` may wait: until the first of their deadlines."""
    return min(time_left_s(pending.deadline_s) for pending in waiting)


async def back_off(delay_ms: int, waiting: list[Waiting]) -> None:
    """Wait `delay_ms` before the next attempt, or less when a deadline of `waiting` comes first."""
    if waiting:
        await asyncio.sleep(min(delay_ms / MILLISECONDS_PER_SECOND, call_wait_s(waiting)))


class InventoryClient:
    """The gateway's batcher for one event's InventoryActor."""

    def __init__(
        self,
        event_id: str,
        database_url: str,
        clock: Callable[[], int] = wall_clock_ms,
        deadline_s: DeadlineSource = no_deadline,
    ) -> None:
        self._event_id = event_id
        self._database_url = database_url
        self._clock = clock
        self._deadline_s = deadline_s
        self._actor: ray.actor.ActorHandle | None = None
        self._pending: list[PendingCommand] = []
        self._sender_tasks: set[asyncio.Task[None]] = set()
        self._senders = 0
        self._senders_starting = 0

    def _started_actor(self) -> ray.actor.ActorHandle:
        """The event's actor, started now if it is not running: the way in of commands."""
        if self._actor is None:
            self._actor = inventory_actor(self._event_id, self._database_url, self._clock)
        return self._actor

    def _running_actor(self) -> ray.actor.ActorHandle | None:
        """The event's actor if it is running; never starts one (the way in of reads)."""
        if self._actor is None:
            try:
                self._actor = ray.get_actor(inventory_actor_name(self._event_id), NAMESPACE)
            except ValueError:
                return None
        return self._actor

    def _replace_retired(self, actor: ray.actor.ActorHandle) -> None:
        """A retired instance does nothing more: stop it, so the next call starts a new one."""
        self._actor = None
        ray.kill(actor, no_restart=True)

    async def snapshot(self, *, include_seats: bool = False) -> InventorySnapshot | None:
        """The running actor's live counts (and seat states); None when the event has no running
        actor (it is idle, retired or restarting): its figures are then Postgres's to give."""
        actor = self._running_actor()
        if actor is None:
            return None
        try:
            answer: InventorySnapshot | None = await actor_answer(
                actor.snapshot.remote(include_seats),
                timeout_s=limits.CLIENT_SNAPSHOT_TIMEOUT_MS / MILLISECONDS_PER_SECOND,
            )
        except ActorRetired:
            self._replace_retired(actor)
            return None
        except ACTOR_CALL_ERRORS:
            self._actor = None
            return None
        return answer

    async def execute(self, command: Command) -> Result:
        if len(self._pending) >= limits.CLIENT_PENDING_COMMANDS_MAX:
            return Rejected(reason=Reason.BUSY, message="too many requests for this event")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append(PendingCommand(command, self._deadline_s(), future))
        if self._senders < limits.CLIENT_BATCHES_IN_FLIGHT_MAX:
            self._senders += 1
            self._senders_starting += 1
            sender = asyncio.create_task(self._drain())
            self._sender_tasks.add(sender)
            sender.add_done_callback(self._sender_tasks.discard)
        return await future

    async def _drain(self) -> None:
        """Send batches until nothing waits. Senders that start together share what waits, so a
        burst leaves as batches the actor can decide while Postgres commits the one before. A
        sender counts as free the moment it stops, before the fans it answered ask again."""
        size = -(-len(self._pending) // self._senders_starting)
        self._senders_starting -= 1
        try:
            while self._pending:
                size = min(size, limits.CLIENT_BATCH_COMMANDS_MAX)
                batch = self._pending[:size]
                del self._pending[:size]
                await self._send(batch)
                size = limits.CLIENT_BATCH_COMMANDS_MAX
        finally:
            self._senders -= 1

    async def _send(self, batch: list[PendingCommand]) -> None:
        """Answer the batch with one actor call. On an actor failure the keyed commands go again
        until the actor answers, the attempts run out or their deadlines pass, each call waiting
        no longer than the first of those deadlines; a command without a key cannot go twice
        safely, and is answered UNAVAILABLE at once."""
        waiting = batch
        for attempt in range(limits.CLIENT_ACTOR_ATTEMPTS_MAX):
            waiting = still_awaited(waiting, unavailable("the inventory is not answering"))
            if not waiting:
                return
            actor = self._started_actor()
            try:
                payload = COMMANDS_ENCODER.encode([pending.command for pending in waiting])
                answers = RESULTS_DECODER.decode(
                    await actor_answer(actor.submit.remote(payload), timeout_s=call_wait_s(waiting))
                )
            except ActorRetired:
                # Nothing was done: every command is sent again, to the instance that replaces it.
                self._replace_retired(actor)
                await back_off(limits.CLIENT_RETRY_BACKOFF_MS, waiting)
                continue
            except ACTOR_CALL_ERRORS:
                self._actor = None
                for pending in waiting:
                    if getattr(pending.command, "idempotency_key", None) is None:
                        pending.answer(unavailable("the inventory restarted; retry the request"))
                waiting = still_awaited(waiting, unavailable("the inventory is not answering"))
                await back_off(limits.CLIENT_RETRY_BACKOFF_MS * min(attempt + 1, 4), waiting)
                continue
            for pending, answer in zip(waiting, answers, strict=True):
                pending.answer(answer)
            return
        for pending in waiting:
            pending.answer(unavailable("the inventory is not answering"))


class PendingJoin(Pending[JoinResult]):
    __slots__ = ("fan_id",)

    def __init__(
        self, fan_id: str, deadline_s: float | None, future: asyncio.Future[JoinResult]
    ) -> None:
        super().__init__(deadline_s, future)
        self.fan_id = fan_id


class WaitingRoomClient:
    """The gateway's batcher for one event's WaitingRoomActor: joins that arrive while a batch is
    in flight leave together as the next one."""

    def __init__(
        self,
        event_id: str,
        database_url: str,
        redis_url: str,
        access_secret: bytes,
        clock: Callable[[], int] = wall_clock_ms,
        deadline_s: DeadlineSource = no_deadline,
    ) -> None:
        self._event_id = event_id
        self._database_url = database_url
        self._redis_url = redis_url
        self._access_secret = access_secret
        self._clock = clock
        self._deadline_s = deadline_s
        self._actor: ray.actor.ActorHandle | None = None
        self._pending: list[PendingJoin] = []
        self._draining: asyncio.Task[None] | None = None

    def _started_actor(self) -> ray.actor.ActorHandle:
        """The event's room, started now if it is not running (it retires when empty)."""
        if self._actor is None:
            self._actor = waiting_room_actor(
                self._event_id,
                self._database_url,
                self._redis_url,
                self._access_secret,
                self._clock,
            )
        return self._actor

    def _replace_retired(self, actor: ray.actor.ActorHandle) -> None:
        """A retired instance does nothing more: stop it, so the next call starts a new one."""
        self._actor = None
        ray.kill(actor, no_restart=True)

    async def join(self, fan_id: str) -> JoinResult:
        """The fan's place: the same queue id however often the fan joins."""
        if len(self._pending) >= limits.WAITING_ROOM_CLIENT_PENDING_FANS_MAX:
            return Rejected(reason=Reason.BUSY, message="too many requests for this event")
        future: asyncio.Future[JoinResult] = asyncio.get_running_loop().create_future()
        self._pending.append(PendingJoin(fan_id, self._deadline_s(), future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def end_access(self, fan_ids: list[str]) -> Rejected | None:
        answer = await self._call("end_access", fan_ids)
        return answer if isinstance(answer, Rejected | None) else _not_answering()

    async def change_settings(self, change: ChangeWaitingRoomSettings) -> QueueCounts | Rejected:
        answer = await self._call("change_settings", change)
        return answer if isinstance(answer, QueueCounts | Rejected) else _not_answering()

    async def counts(self) -> QueueCounts | Rejected:
        answer = await self._call("counts")
        return answer if isinstance(answer, QueueCounts | Rejected) else _not_answering()

    async def ready(self) -> bool:
        """Start the actor if it is not running: after a restart nothing else wakes its ticker
        while fans only poll, so whoever supervises the event calls this periodically."""
        answer = await self._call("ready")
        return answer is True

    async def _call(self, method: str, *arguments: object) -> object:
        """One call that Ray does not retry: a lost answer is UNAVAILABLE, never a second effect.
        A retired instance did nothing, so the call goes once more to the one replacing it, while
        the caller's deadline leaves time."""
        deadline_s = self._deadline_s()
        for _ in range(RETIRED_INSTANCES_PER_CALL_MAX):
            wait_s = time_left_s(deadline_s)
            if wait_s <= 0:
                break
            actor = self._started_actor()
            try:
                return await actor_answer(
                    getattr(actor, method).remote(*arguments), timeout_s=wait_s
                )
            except ActorRetired:
                self._replace_retired(actor)
            except ACTOR_CALL_ERRORS as error:
                self._actor = None
                return error
        return _not_answering()

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: limits.WAITING_ROOM_CLIENT_BATCH_FANS_MAX]
            del self._pending[: limits.WAITING_ROOM_CLIENT_BATCH_FANS_MAX]
            await self._send(batch)

    async def _send(self, batch: list[PendingJoin]) -> None:
        """Answer the batch with one actor call; a join is idempotent, so on an actor failure it is
        sent again, until the attempts run out or the joins' deadlines pass, each call waiting no
        longer than the first of those deadlines."""
        waiting = batch
        for attempt in range(limits.CLIENT_ACTOR_ATTEMPTS_MAX):
            waiting = still_awaited(waiting, _not_answering())
            if not waiting:
                return
            actor = self._started_actor()
            try:
                answers: list[JoinResult] = await actor_answer(
                    actor.join.remote([pending.fan_id for pending in waiting]),
                    timeout_s=call_wait_s(waiting),
                )
            except ActorRetired:
                self._replace_retired(actor)
                await back_off(limits.CLIENT_RETRY_BACKOFF_MS, waiting)
                continue
            except ACTOR_CALL_ERRORS:
                self._actor = None
                await back_off(limits.CLIENT_RETRY_BACKOFF_MS * min(attempt + 1, 4), waiting)
                continue
            for pending, answer in zip(waiting, answers, strict=True):
                pending.answer(answer)
            return
        for pending in waiting:
            pending.answer(_not_answering())


def _not_answering() -> Rejected:
    return unavailable("the waiting room is not answering")
