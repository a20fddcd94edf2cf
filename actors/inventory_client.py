"""The gateway's batcher for one event's InventoryActor, the typed facade of its writer.

Requests that arrive while its batches are in flight wait and leave together as the next batch
(bounded), one actor call per batch, at most `CLIENT_BATCHES_IN_FLIGHT_MAX` batches at a time so
the actor can decide one while Postgres commits another. It rides through an actor restart by
retrying keyed commands, which the engine deduplicates; a command without a key cannot be retried
safely and is answered UNAVAILABLE instead. A caller's deadline (a request's, handed in as
`deadline_s`) bounds its wait: each call waits only the time left, and the retries stop at it with
UNAVAILABLE (a keyed command still in flight may land, and its retry finds it). Commands start the
event's actor if it is not running (it retires when idle); reads never do.
"""

import asyncio
import uuid
from collections.abc import Callable

import ray
from ray.actor import ActorHandle

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.inventory_actor import InventoryActor
from actors.inventory_figures import InventorySnapshot
from actors.inventory_wire import COMMANDS_ENCODER, RESULTS_DECODER, Result
from actors.lifecycle import ActorRetired, unavailable
from actors.names import NAMESPACE, inventory_actor_name
from actors.pending_answers import (
    DeadlineSource,
    Pending,
    back_off,
    call_wait_s,
    no_deadline,
    still_awaited,
)
from actors.remote import inventory_actor
from actors.wall_clock import wall_clock_ms
from engine import limits
from engine.commands import Command
from engine.limits import MILLISECONDS_PER_SECOND
from engine.rejections import Reason, Rejected


class PendingCommand(Pending[Result]):
    __slots__ = ("command",)

    def __init__(
        self, command: Command, deadline_s: float | None, future: asyncio.Future[Result]
    ) -> None:
        super().__init__(deadline_s, future)
        self.command = command


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
        self._actor: ActorHandle[InventoryActor] | None = None
        self._pending: list[PendingCommand] = []
        self._sender_tasks: set[asyncio.Task[None]] = set()
        self._senders = 0
        self._senders_starting = 0

    def _started_actor(self) -> ActorHandle[InventoryActor]:
        """The event's actor, started now if it is not running: the way in of commands."""
        if self._actor is None:
            self._actor = inventory_actor(self._event_id, self._database_url, self._clock)
        return self._actor

    def _running_actor(self) -> ActorHandle[InventoryActor] | None:
        """The event's actor if it is running; never starts one (the way in of reads)."""
        if self._actor is None:
            try:
                self._actor = ray.get_actor(inventory_actor_name(self._event_id), NAMESPACE)
            except ValueError:
                return None
        return self._actor

    def _replace_retired(self, actor: ActorHandle[InventoryActor]) -> None:
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


class ClusterInventories:
    """Any event's InventoryActor, reached through one client per event: what a worker that
    settles orders of many events runs its engine commands through. Holds no connection until
    used, so it may be handed to an actor."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._clients: dict[uuid.UUID, InventoryClient] = {}

    async def __call__(self, event_id: uuid.UUID, command: Command) -> Result:
        client = self._clients.get(event_id)
        if client is None:
            client = self._clients[event_id] = InventoryClient(str(event_id), self._database_url)
        return await client.execute(command)
