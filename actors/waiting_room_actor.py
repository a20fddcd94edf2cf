"""The single writer of one event's waiting room: joins in batches, a ticker that opens the room,
records polls, expires access and admits fans, one Postgres commit per batch, then Redis. Each
tick it also asks the event's inventory what it has left (`actors.stock_follower`) and records a
change: admission pauses while nothing is available, and queued places show `sold_out` once
nothing is held either.

Requests and ticks wait in one bounded inbox; one loop takes a batch, decides and applies each
command on the engine, writes the batch's changes in one transaction under this instance's epoch,
publishes what changed to Redis (`actors.waiting_room_mirror`), and only then answers. If the
commit fails, memory is thrown away and rebuilt from Postgres before the next batch. Redis is a
cache of the committed room: when a publish fails or its keys vanish, the next tick republishes.
A room with nobody in it retires when its Supervisor asks (`retire`), and starts again on demand.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import asyncpg

from actors.lifecycle import (
    ActorRetired,
    LazyStart,
    TenantAtCapacity,
    check_tenant_capacity,
    open_event_pool,
    start_loop,
    unavailable,
)
from actors.stock_follower import StockFollower
from actors.waiting_room_commands import JoinResult, answer_of, decide_batch
from actors.waiting_room_inbox import Request, RoomInbox, Tick
from actors.waiting_room_mirror import RoomMirror
from actors.wall_clock import wall_clock_ms
from engine import limits
from engine.limits import MILLISECONDS_PER_SECOND
from engine.rejections import Reason, Rejected
from engine.waiting_room.changes import WaitingRoomChange
from engine.waiting_room.commands import (
    ChangeWaitingRoomSettings,
    EndAccess,
    JoinFans,
    RecordStock,
    WaitingRoomCommand,
)
from engine.waiting_room.rows import rebuild_waiting_room
from engine.waiting_room.state import WaitingRoom
from engine.waiting_room.views import (
    QueueCounts,
    count_places,
)
from persistence.database_errors import DATABASE_ERRORS
from persistence.tenancy import tenant_transaction
from persistence.waiting_room_reads import load_waiting_room
from persistence.waiting_room_writes import (
    StaleWaitingRoomEpoch,
    WaitingRoomConflict,
    take_waiting_room_epoch,
    write_waiting_room_changes,
)

ROOM_ERRORS: tuple[type[BaseException], ...] = (*DATABASE_ERRORS, WaitingRoomConflict)

log = logging.getLogger(__name__)


class WaitingRoomActor:
    """Made remote in `actors.remote`; `__init__` does no I/O so a restart can never fail there."""

    def __init__(
        self,
        *,
        event_id: str,
        database_url: str,
        redis_url: str,
        access_secret: bytes,
        clock: Callable[[], int] = wall_clock_ms,
    ):
        self._event_id = uuid.UUID(event_id)
        self._database_url = database_url
        self._access_secret = access_secret
        self._clock = clock
        self._holder = f"waiting_room:{event_id}:{uuid.uuid4().hex[:12]}"
        self._start_once = LazyStart(
            self._start, name="waiting room actor", errors=(*ROOM_ERRORS, TenantAtCapacity)
        )
        self._pool: asyncpg.Pool | None = None
        self._mirror = RoomMirror(
            redis_url=redis_url, event_id=str(self._event_id), access_secret=access_secret
        )
        self._tenant_id: uuid.UUID | None = None
        self._epoch = 0
        self._room: WaitingRoom | None = None
        self._needs_rebuild = True
        self._fenced = False
        self._inbox = RoomInbox()
        self._tick_waiting = False
        self._stock_waiting = False
        self._stock = StockFollower(event_id)
        self._wakeup: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_used_ms = self._clock()
        self._serving = False
        self._retired = False
        self._progress_ms = self._clock()

    async def join(
        self, fan_ids: list[str], presale_fan_ids: list[str] | None = None
    ) -> list[JoinResult]:
        """Each fan's place, the same place on every join; answered after the commit.
        `presale_fan_ids`, some of `fan_ids`, gave a valid presale code."""
        assert len(fan_ids) <= limits.WAITING_ROOM_BATCH_FANS_MAX, "clients send bounded batches"
        if not fan_ids:
            return []
        command = JoinFans(fan_ids=fan_ids, presale_fan_ids=presale_fan_ids or [])
        answer = await self._submit(command, fan_ids)
        if isinstance(answer, Rejected):
            return [answer] * len(fan_ids)
        assert isinstance(answer, list)
        return answer

    async def end_access(self, fan_ids: list[str]) -> Rejected | None:
        """These admitted fans finished or left, so they stop counting as active shoppers."""
        answer = await self._submit(EndAccess(fan_ids=fan_ids), fan_ids)
        return answer if isinstance(answer, Rejected) else None

    async def change_settings(self, change: ChangeWaitingRoomSettings) -> QueueCounts | Rejected:
        """Change the room's settings from now on; its counts once the change is committed."""
        answer = await self._submit(change, None)
        if isinstance(answer, Rejected):
            return answer
        return await self.counts()

    async def counts(self) -> QueueCounts | Rejected:
        """The stats endpoint's queue figures, straight from memory."""
        if self._retired:
            raise ActorRetired(f"the waiting room of {self._event_id} retired")
        if not await self._started() or self._room is None:
            return unavailable("the waiting room is not available yet")
        return count_places(self._room)

    async def ready(self) -> bool:
        """Start if not started (a supervisor calls this after Ray restarts the actor)."""
        return not self._retired and await self._started()

    async def stalled_for_ms(self) -> int:
        """How long requests or ticks have waited with no batch served: 0 while nothing waits
        (the Supervisor's watchdog restarts a room stalled too long)."""
        if not (self._inbox or self._serving):
            return 0
        return self._clock() - self._progress_ms

    async def retire(self, idle_s: float) -> bool:
        """Retire when nobody has called for `idle_s` (its creation counts as a call) and nobody
        is in the room (waiting, before the opening, or shopping), with nothing in flight, or
        fenced out: True once this instance answers nothing more, so its Supervisor may stop it."""
        if self._retired:
            return True
        if self._clock() - self._last_used_ms < idle_s * MILLISECONDS_PER_SECOND:
            return False
        if self._start_once.has_started and not self._fenced:
            assert self._room is not None
            counts = count_places(self._room)
            if self._inbox or self._serving or counts.present > 0:
                return False
        self._retired = True
        for task in self._tasks:
            task.cancel()
        if self._pool is not None:
            await self._pool.close()
        await self._mirror.close()
        log.info("waiting room retired", extra={"event_id": str(self._event_id)})
        return True

    async def _submit(self, command: WaitingRoomCommand, fan_ids: list[str] | None) -> object:
        """Queue one command and wait for its answer, given after the batch's commit. Raises
        ActorRetired, having done nothing, once this instance has retired."""
        if self._retired:
            raise ActorRetired(f"the waiting room of {self._event_id} retired")
        self._last_used_ms = self._clock()
        if not await self._started():
            message = self._start_once.why_not_started("the waiting room is not available yet")
            return unavailable(message)
        if self._retired:
            raise ActorRetired(f"the waiting room of {self._event_id} retired")
        request_fans = max(1, len(fan_ids or ()))
        if self._inbox.fans + request_fans > limits.WAITING_ROOM_INBOX_FANS_MAX:
            return Rejected(reason=Reason.BUSY, message="the waiting room is busy")
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._enqueue(Request(command, future, fan_ids))
        return await future

    async def _started(self) -> bool:
        """Start once (lazily, so Ray's restart of this actor rebuilds it); False if it cannot."""
        return await self._start_once() and not self._fenced

    async def _start(self) -> None:
        if self._pool is None:
            self._pool, self._tenant_id = await open_event_pool(self._database_url, self._event_id)
        self._mirror.connect()
        assert self._tenant_id is not None
        await check_tenant_capacity(self._pool, tenant_id=self._tenant_id, event_id=self._event_id)
        await self._rebuild()
        self._wakeup = asyncio.Event()
        name = f"waiting room {self._event_id}"
        self._tasks = [
            start_loop(name, self._serve_batches()),
            start_loop(name, self._tick_forever()),
            start_loop(name, self._follow_stock_forever()),
        ]

    async def _rebuild(self) -> None:
        """Take a new epoch and read the room back from Postgres, the source of truth."""
        assert self._pool is not None and self._tenant_id is not None
        started = time.perf_counter()
        async with tenant_transaction(self._pool, self._tenant_id) as connection:
            self._epoch = await take_waiting_room_epoch(
                connection, event_id=self._event_id, holder=self._holder
            )
            room_row, place_rows = await load_waiting_room(connection, event_id=self._event_id)
        self._room = rebuild_waiting_room(room_row, place_rows)
        self._needs_rebuild = False
        self._mirror.republish_everything()
        log.info(
            "waiting room rebuilt",
            extra={
                "event_id": str(self._event_id),
                "epoch": self._epoch,
                "places": self._room.fan_count,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )

    def _enqueue(self, request: Request) -> None:
        if not (self._inbox or self._serving):
            self._progress_ms = self._clock()
        self._inbox.append(request)
        assert self._wakeup is not None
        self._wakeup.set()

    async def _serve_batches(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            self._serving = True
            while self._inbox:
                await self._serve(self._inbox.take_batch())
                self._progress_ms = self._clock()
            self._serving = False

    async def _tick_forever(self) -> None:
        """The ticker is a command in the same inbox, ordered and committed like any other."""
        while True:
            await asyncio.sleep(limits.WAITING_ROOM_TICK_INTERVAL_MS / MILLISECONDS_PER_SECOND)
            if not self._fenced and not self._tick_waiting:
                self._tick_waiting = True
                self._enqueue(Request(Tick(), None))

    async def _follow_stock_forever(self) -> None:
        """A change of the event's stock is a command in the same inbox, recorded like any other."""
        while True:
            await asyncio.sleep(limits.WAITING_ROOM_TICK_INTERVAL_MS / MILLISECONDS_PER_SECOND)
            if self._fenced or self._stock_waiting or self._room is None:
                continue
            stock = await self._stock.current()
            if stock is not None and stock is not self._room.stock:
                self._stock_waiting = True
                self._enqueue(Request(RecordStock(stock=stock), None))

    async def _serve(self, batch: list[Request]) -> None:
        if self._needs_rebuild:
            try:
                await self._rebuild()
            except ROOM_ERRORS as error:
                self._answer_all(batch, unavailable("the database is unavailable"))
                log.warning("rebuild failed", extra={"error": repr(error)})
                await asyncio.sleep(
                    limits.ACTOR_REBUILD_RETRY_INTERVAL_MS / MILLISECONDS_PER_SECOND
                )
                return
        has_tick = any(isinstance(request.command, Tick) for request in batch)
        polled = await self._mirror.drain_polls() if has_tick else []
        room = self._room
        assert room is not None and self._pool is not None and self._tenant_id is not None
        now_ms = self._clock()
        self._note_turns_taken(batch)
        changes, rejections = decide_batch(room, batch, polled, now_ms)
        if changes and not await self._commit(batch, changes, now_ms):
            return
        self._mirror.note_committed(changes, room)
        await self._mirror.publish(room, epoch=self._epoch, now_ms=now_ms)
        for request, rejection in zip(batch, rejections, strict=True):
            if request.future is not None and not request.future.done():
                request.future.set_result(
                    answer_of(room, request, rejection, now_ms, self._access_secret)
                )

    async def _commit(
        self, batch: list[Request], changes: list[WaitingRoomChange], now_ms: int
    ) -> bool:
        """Write the batch in one transaction; on failure answer it and say so."""
        room = self._room
        assert room is not None and self._pool is not None and self._tenant_id is not None
        try:
            async with tenant_transaction(self._pool, self._tenant_id) as connection:
                await write_waiting_room_changes(
                    connection,
                    tenant_id=self._tenant_id,
                    event_id=self._event_id,
                    epoch=self._epoch,
                    room=room,
                    changes=changes,
                )
        except StaleWaitingRoomEpoch:
            self._fenced = True
            self._answer_all(batch, unavailable("this waiting room instance was replaced"))
            log.error("fenced out by a newer epoch", extra={"epoch": self._epoch})
            return False
        except ROOM_ERRORS as error:
            self._needs_rebuild = True
            self._answer_all(batch, unavailable("the database is unavailable"))
            log.warning("waiting room commit failed", extra={"error": repr(error)})
            return False
        return True

    def _note_turns_taken(self, batch: list[Request]) -> None:
        """A tick or stock record in this batch is served: the next may wait in the inbox."""
        for request in batch:
            if isinstance(request.command, Tick):
                self._tick_waiting = False
            if isinstance(request.command, RecordStock):
                self._stock_waiting = False

    def _answer_all(self, batch: list[Request], rejection: Rejected) -> None:
        self._note_turns_taken(batch)
        for request in batch:
            if request.future is not None and not request.future.done():
                request.future.set_result(rejection)
