"""The gateway's batcher for one event's WaitingRoomActor, the typed facade of its room.

Joins that arrive while a batch is in flight leave together as the next one (bounded); a join is
safe to retry (a fan keeps one place), so it always rides through a restart, within the caller's
deadline. Every other call goes once: a lost answer is UNAVAILABLE, never a second effect. Polls
never reach the actor: `actors.waiting_room_publication.queue_position` answers them from Redis.
"""

import asyncio
from collections.abc import Callable

import ray
from ray.actor import ActorHandle

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.lifecycle import ActorRetired, unavailable
from actors.pending_answers import (
    DeadlineSource,
    Pending,
    back_off,
    call_wait_s,
    no_deadline,
    still_awaited,
    time_left_s,
)
from actors.remote import waiting_room_actor
from actors.waiting_room_actor import WaitingRoomActor
from actors.wall_clock import wall_clock_ms
from engine import limits
from engine.rejections import Reason, Rejected
from engine.waiting_room.commands import ChangeWaitingRoomSettings
from engine.waiting_room.views import PlaceView, QueueCounts

# A call meets a retired instance at most once or twice: the next one it starts is fresh.
RETIRED_INSTANCES_PER_CALL_MAX = 3
JoinResult = PlaceView | Rejected


class PendingJoin(Pending[JoinResult]):
    __slots__ = ("fan_id", "presale")

    def __init__(
        self,
        fan_id: str,
        presale: bool,
        deadline_s: float | None,
        future: asyncio.Future[JoinResult],
    ) -> None:
        super().__init__(deadline_s, future)
        self.fan_id = fan_id
        self.presale = presale


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
        self._actor: ActorHandle[WaitingRoomActor] | None = None
        self._pending: list[PendingJoin] = []
        self._draining: asyncio.Task[None] | None = None

    def _started_actor(self) -> ActorHandle[WaitingRoomActor]:
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

    def _replace_retired(self, actor: ActorHandle[WaitingRoomActor]) -> None:
        """A retired instance does nothing more: stop it, so the next call starts a new one."""
        self._actor = None
        ray.kill(actor, no_restart=True)

    async def join(self, fan_id: str, *, presale: bool = False) -> JoinResult:
        """The fan's place: the same queue id however often the fan joins. `presale`: the fan
        gave a valid presale code, so before the opening the place is in the presale line."""
        if len(self._pending) >= limits.WAITING_ROOM_CLIENT_PENDING_FANS_MAX:
            return Rejected(reason=Reason.BUSY, message="too many requests for this event")
        future: asyncio.Future[JoinResult] = asyncio.get_running_loop().create_future()
        self._pending.append(PendingJoin(fan_id, presale, self._deadline_s(), future))
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
                    actor.join.remote(
                        [pending.fan_id for pending in waiting],
                        [pending.fan_id for pending in waiting if pending.presale],
                    ),
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
