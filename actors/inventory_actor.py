"""The single writer of one event's inventory: batches in, one Postgres commit, batches out.

Requests (msgpack on the wire) wait in a bounded inbox; one loop takes everything waiting (up to a
batch), decides and applies each command on the engine, and writes the batch's changes in one
transaction under this instance's epoch. While that commit is in flight the loop decides the next
batch on top of it; commits run one at a time, in order, and a batch is answered only after its
own commit. If a commit fails, its batch and the one decided on top are answered UNAVAILABLE and
memory is rebuilt from Postgres before anything else is decided, so nothing unacknowledged
survives in memory; when Postgres refused the data of a command (a NUL in a text, a value out of a
column's range), both batches are instead decided again one command at a time, each committed
alone, so only the commands whose data is refused fail. An idle instance with no live hold
retires when its Supervisor asks (`retire`), and is started again on demand.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence

import asyncpg
import msgspec

from actors.lifecycle import (
    ActorRetired,
    LazyStart,
    TenantAtCapacity,
    check_tenant_capacity,
    open_event_pool,
    refused_data,
    start_loop,
    unavailable,
    wall_clock_ms,
)
from engine import limits
from engine.changes import Change
from engine.commands import Command, ExpireHolds
from engine.inventory.apply import apply
from engine.inventory.decide import decide
from engine.inventory.state import Inventory, TicketTypeCounts
from engine.outcomes import Outcome
from engine.rejections import Reason, Rejected
from persistence.database_errors import DATABASE_ERRORS, REFUSED_DATA_ERRORS
from persistence.epochs import StaleEpoch, fenced_transaction, take_epoch
from persistence.inventory_reads import load_inventory_rows
from persistence.inventory_rows import ChangePlan, plan_changes
from persistence.inventory_writes import InventoryConflict, write_planned
from persistence.reconciliation import StoredCounts, count_stored_inventory
from persistence.tenancy import tenant_transaction

MILLISECONDS_PER_SECOND = 1_000
COMMIT_SECONDS_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)

Result = Outcome | Rejected
# `submit` takes and returns msgpack: far cheaper than pickling the Structs on both sides.
COMMANDS_ENCODER = msgspec.msgpack.Encoder()
COMMANDS_DECODER = msgspec.msgpack.Decoder(list[Command])
RESULTS_ENCODER = msgspec.msgpack.Encoder()
RESULTS_DECODER = msgspec.msgpack.Decoder(list[Result])
log = logging.getLogger(__name__)


class PipelineStats(msgspec.Struct, frozen=True, kw_only=True):
    """What the actor has done since it started, for /metrics and the batch-size benchmark;
    `stalled_for_ms` is how long requests have waited with none answered (the watchdog's)."""

    epoch: int
    batches_committed: int
    commands_decided: int
    batch_size_max: int
    commit_failures: int
    rebuilds: int
    rebuild_seconds_last: float
    commit_seconds_total: float
    commit_seconds_bounds: tuple[float, ...]
    commit_seconds_buckets: tuple[int, ...]
    inbox_commands: int
    stalled_for_ms: int = 0


class InventorySnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The live figures the API shows: counts per ticket type, the pause, and optionally the
    state of every seat (one byte each, in seat-map order)."""

    paused: bool
    counts: list[TicketTypeCounts]
    seat_states: bytes


class CountDifference(msgspec.Struct, frozen=True, kw_only=True):
    """One count on which memory and Postgres disagree; any difference is a bug to look into."""

    ticket_type_id: str
    measure: str
    in_memory: int
    in_postgres: int


def count_differences(
    memory: list[TicketTypeCounts], stored: list[StoredCounts]
) -> list[CountDifference]:
    """Compare memory with both the counters and the recounted rows of Postgres."""
    stored_by_type = {counts.ticket_type_id: counts for counts in stored}
    differences = []
    for counts in memory:
        row = stored_by_type.get(counts.ticket_type_id)
        if row is None:
            differences.append(
                CountDifference(
                    ticket_type_id=counts.ticket_type_id,
                    measure="ticket_type",
                    in_memory=counts.capacity,
                    in_postgres=0,
                )
            )
            continue
        for measure, in_memory, in_postgres in (
            ("capacity", counts.capacity, row.capacity),
            ("held_counter", counts.held, row.held_counter),
            ("held_in_rows", counts.held, row.held_in_rows),
            ("sold_counter", counts.sold, row.sold_counter),
            ("sold_in_rows", counts.sold, row.sold_in_rows),
            ("withheld_in_rows", counts.withheld, row.withheld_in_rows),
        ):
            if in_memory != in_postgres:
                differences.append(
                    CountDifference(
                        ticket_type_id=counts.ticket_type_id,
                        measure=measure,
                        in_memory=in_memory,
                        in_postgres=in_postgres,
                    )
                )
    return differences


class Request:
    __slots__ = ("commands", "future")

    def __init__(self, commands: Sequence[Command], future: asyncio.Future[list[Result]] | None):
        self.commands = commands
        self.future = future


class FailedCommit(msgspec.Struct, frozen=True, kw_only=True):
    """Why a batch was not committed. `replay` holds its requests, still unanswered, when Postgres
    refused the data of some command: they are decided again one at a time."""

    rejection: Rejected
    replay: list[Request] | None = None


class DecidedBatch:
    """Requests applied to memory and waiting for their commit, with the answers they will then
    get; `plan` is None while they changed nothing."""

    __slots__ = ("answers", "changes", "plan", "requests", "size")

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.answers: list[list[Result]] = []
        self.changes: list[Change] = []
        self.plan: ChangePlan | None = None
        self.size = 0


class InventoryActor:
    """Made remote in `actors.remote`; `__init__` does no I/O so a restart can never fail there."""

    def __init__(
        self, *, event_id: str, database_url: str, clock: Callable[[], int] = wall_clock_ms
    ):
        self._event_id = uuid.UUID(event_id)
        self._database_url = database_url
        self._clock = clock
        self._holder = f"inventory:{event_id}:{uuid.uuid4().hex[:12]}"
        self._start_once = LazyStart(
            self._start, name="inventory actor", errors=(*DATABASE_ERRORS, TenantAtCapacity)
        )
        self._pool: asyncpg.Pool | None = None
        self._tenant_id: uuid.UUID | None = None
        self._epoch = 0
        self._inventory: Inventory | None = None
        self._needs_rebuild = True
        self._fenced = False
        self._inbox: list[Request] = []
        self._reconciliations: list[asyncio.Future[list[CountDifference]]] = []
        self._inbox_commands = 0
        self._wakeup: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._batches_committed = 0
        self._commands_decided = 0
        self._batch_size_max = 0
        self._commit_failures = 0
        self._rebuilds = 0
        self._rebuild_seconds_last = 0.0
        self._commit_seconds_total = 0.0
        self._commit_seconds_buckets = [0] * (len(COMMIT_SECONDS_BUCKETS) + 1)
        self._last_used_ms = self._clock()
        self._loop_idle = True
        self._retired = False
        self._unfinished = 0
        self._progress_ms = self._clock()

    async def submit(self, payload: bytes) -> bytes:
        """Decide, commit and answer the msgpack list of commands in `payload`, in order: a
        msgpack list with one result per command (see `COMMANDS_ENCODER`, `RESULTS_DECODER`).
        Raises ActorRetired, having done nothing, once this instance has retired."""
        if self._retired:
            raise ActorRetired(f"the inventory of {self._event_id} retired")
        self._last_used_ms = self._clock()
        commands = COMMANDS_DECODER.decode(payload)
        assert len(commands) <= limits.ACTOR_BATCH_COMMANDS_MAX, "clients send bounded batches"
        results: list[Result]
        if not await self._started():
            message = self._start_once.why_not_started("the inventory is not available yet")
            results = [unavailable(message)] * len(commands)
        elif self._retired:
            raise ActorRetired(f"the inventory of {self._event_id} retired")
        elif self._inbox_commands + len(commands) > limits.ACTOR_INBOX_COMMANDS_MAX:
            results = [Rejected(reason=Reason.BUSY, message="the inventory is busy")] * len(
                commands
            )
        else:
            future: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
            self._enqueue(Request(commands, future))
            results = await future
        return RESULTS_ENCODER.encode(results)

    async def counts(self) -> list[TicketTypeCounts]:
        """The live counts per ticket type, straight from memory."""
        if not await self._started() or self._inventory is None:
            return []
        inventory = self._inventory
        return [inventory.ticket_type_counts(type_id) for type_id in inventory.ticket_types]

    async def snapshot(self, include_seats: bool) -> InventorySnapshot | None:
        """The live figures straight from memory; None while the inventory cannot start. Raises
        ActorRetired once this instance has retired: its memory may no longer be the truth."""
        if self._retired:
            raise ActorRetired(f"the inventory of {self._event_id} retired")
        if not await self._started() or self._inventory is None:
            return None
        inventory = self._inventory
        return InventorySnapshot(
            paused=inventory.paused,
            counts=[inventory.ticket_type_counts(type_id) for type_id in inventory.ticket_types],
            seat_states=bytes(inventory.seat_states.states) if include_seats else b"",
        )

    async def reconcile(self) -> list[CountDifference]:
        """Compare memory with Postgres between two batches, when no commit is in flight."""
        if self._retired or not await self._started():
            raise RuntimeError("the inventory is not available")
        future: asyncio.Future[list[CountDifference]] = asyncio.get_running_loop().create_future()
        self._reconciliations.append(future)
        assert self._wakeup is not None
        self._wakeup.set()
        return await future

    async def stats(self) -> PipelineStats:
        await self._started()
        return PipelineStats(
            epoch=self._epoch,
            batches_committed=self._batches_committed,
            commands_decided=self._commands_decided,
            batch_size_max=self._batch_size_max,
            commit_failures=self._commit_failures,
            rebuilds=self._rebuilds,
            rebuild_seconds_last=self._rebuild_seconds_last,
            commit_seconds_total=self._commit_seconds_total,
            commit_seconds_bounds=COMMIT_SECONDS_BUCKETS,
            commit_seconds_buckets=tuple(self._commit_seconds_buckets),
            inbox_commands=self._inbox_commands,
            stalled_for_ms=self._stalled_for_ms(),
        )

    async def retire(self, idle_s: float) -> bool:
        """Retire when unused for `idle_s` (its creation counts as a use) with no live hold,
        nothing waiting and no commit in flight, or fenced out: True once this instance answers
        nothing more, so its Supervisor may stop it. Holds need their instance to expire on time."""
        if self._retired:
            return True
        if self._clock() - self._last_used_ms < idle_s * MILLISECONDS_PER_SECOND:
            return False
        if self._start_once.has_started and not self._fenced:
            assert self._inventory is not None
            if self._inbox or not self._loop_idle or self._reconciliations or self._inventory.holds:
                return False
        await self.close()
        log.info("inventory retired", extra={"event_id": str(self._event_id)})
        return True

    async def close(self) -> None:
        """Answer nothing more and let go of Postgres, whatever is in memory: what `retire` does
        once it is safe, and what an instance run outside Ray (a test's) does when it ends."""
        self._retired = True
        for task in self._tasks:
            task.cancel()
        if self._pool is not None:
            await self._pool.close()

    async def _started(self) -> bool:
        """Start once (lazily, so Ray's restart of this actor rebuilds it); False if it cannot."""
        return await self._start_once() and not self._fenced

    async def _start(self) -> None:
        if self._pool is None:
            self._pool, self._tenant_id = await open_event_pool(self._database_url, self._event_id)
        assert self._tenant_id is not None
        await check_tenant_capacity(self._pool, tenant_id=self._tenant_id, event_id=self._event_id)
        await self._rebuild()
        self._wakeup = asyncio.Event()
        name = f"inventory {self._event_id}"
        self._tasks = [
            start_loop(name, self._serve_batches()),
            start_loop(name, self._sweep_expired_holds()),
        ]

    async def _rebuild(self) -> None:
        """Take a new epoch and read the inventory back from Postgres, the source of truth."""
        assert self._pool is not None and self._tenant_id is not None
        started = time.perf_counter()
        async with tenant_transaction(self._pool, self._tenant_id) as connection:
            self._epoch = await take_epoch(
                connection, tenant_id=self._tenant_id, event_id=self._event_id, holder=self._holder
            )
            rows = await load_inventory_rows(connection, event_id=self._event_id)
        self._inventory = Inventory.rebuild(rows)
        self._needs_rebuild = False
        self._rebuilds += 1
        self._rebuild_seconds_last = time.perf_counter() - started
        log.info(
            "inventory rebuilt",
            extra={
                "event_id": str(self._event_id),
                "epoch": self._epoch,
                "seconds": round(self._rebuild_seconds_last, 3),
            },
        )

    def _enqueue(self, request: Request) -> None:
        self._inbox.append(request)
        self._inbox_commands += len(request.commands)
        self._unfinished += 1
        if self._unfinished == 1:
            self._progress_ms = self._clock()
        assert self._wakeup is not None
        self._wakeup.set()

    def _finish(self, request: Request, results: list[Result]) -> None:
        """Answer a request (an expiry sweep has nobody to answer): the loop made progress."""
        if request.future is not None and not request.future.done():
            request.future.set_result(results)
        self._unfinished -= 1
        self._progress_ms = self._clock()

    def _stalled_for_ms(self) -> int:
        """How long requests have waited with none of them finished: 0 while nothing waits."""
        return self._clock() - self._progress_ms if self._unfinished else 0

    def _take_batch(self, room: int) -> list[Request]:
        batch: list[Request] = []
        size = 0
        while self._inbox and size + len(self._inbox[0].commands) <= room:
            request = self._inbox.pop(0)
            size += len(request.commands)
            batch.append(request)
        self._inbox_commands -= size
        return batch

    async def _serve_batches(self) -> None:
        """Decide the next batch while the previous one commits: whatever arrives before that
        commit ends joins it (up to a batch). A pending reconciliation lets the commit in flight
        finish and runs before anything else is decided."""
        assert self._wakeup is not None
        committing: asyncio.Task[Rejected | None] | None = None
        decided: DecidedBatch | None = None
        while True:
            if committing is not None and committing.done():
                failure = committing.result()
                committing = None
                if failure is not None:
                    # Decided on top of a batch Postgres refused: its answers may rest on it.
                    on_top = [] if decided is None else decided.requests
                    decided = None
                    if failure.replay is None:
                        self._answer_all(on_top, failure.rejection)
                    else:
                        await self._replay_one_by_one([*failure.replay, *on_top])
            if committing is None and decided is not None:
                committing = asyncio.create_task(self._commit(decided))
                committing.add_done_callback(self._wake)
                decided = None
            if committing is None and self._reconciliations:
                await self._reconcile_now()
                continue
            room = limits.ACTOR_BATCH_COMMANDS_MAX - (0 if decided is None else decided.size)
            if (
                self._inbox
                and len(self._inbox[0].commands) <= room
                and not self._reconciliations
                and (decided is None or committing is not None)
            ):
                decided = await self._decide(self._take_batch(room), decided)
                continue
            self._loop_idle = committing is None and decided is None
            await self._wakeup.wait()
            self._wakeup.clear()
            self._loop_idle = False

    def _wake(self, _: object) -> None:
        assert self._wakeup is not None
        self._wakeup.set()

    async def _sweep_expired_holds(self) -> None:
        """Expiry is a command in the same inbox, so it is ordered and committed like any other."""
        while True:
            await asyncio.sleep(limits.EXPIRY_SWEEP_INTERVAL_MS / 1_000)
            if not self._fenced:
                self._enqueue(Request([ExpireHolds()], None))

    async def _decide(
        self, batch: list[Request], decided: DecidedBatch | None
    ) -> DecidedBatch | None:
        """Apply the batch to memory, joining it to `decided` if there is one; None when nothing
        waits for a commit (the batch was answered at once: fenced, or no rebuild).

        Memory needs a rebuild only after a failed commit, and the loop decides nothing until
        that commit is done and what was decided on top of it is answered, so a rebuild never
        overtakes a commit in flight. Deciding gives the event loop a turn now and then, so the
        commit in flight is answered as soon as Postgres replies; if that commit fails meanwhile,
        the loop refuses this batch with it, as any batch decided on top of a failed one."""
        if self._fenced:
            self._answer_all(batch, unavailable("this inventory instance was replaced"))
            return decided
        if self._needs_rebuild:
            assert decided is None, "nothing is decided on memory that needs a rebuild"
            try:
                await self._rebuild()
            except DATABASE_ERRORS as error:
                self._answer_all(batch, unavailable("the database is unavailable"))
                log.warning("rebuild failed", extra={"error": repr(error)})
                await asyncio.sleep(limits.ACTOR_REBUILD_RETRY_INTERVAL_MS / 1_000)
                return None
        inventory = self._inventory
        assert inventory is not None
        decided = decided or DecidedBatch()
        now_ms = self._clock()
        changes = decided.changes
        changed = len(changes)
        decisions = 0
        for request in batch:
            results: list[Result] = []
            for command in request.commands:
                decisions += 1
                if decisions % limits.ACTOR_DECISIONS_BETWEEN_TURNS == 0:
                    await asyncio.sleep(0)
                decision = decide(inventory, command, now_ms)
                if isinstance(decision, Rejected):
                    results.append(decision)
                    continue
                for change in decision.changes:
                    apply(inventory, change)
                changes.extend(decision.changes)
                results.append(decision.outcome)
            decided.requests.append(request)
            decided.answers.append(results)
            decided.size += len(results)
            self._commands_decided += len(results)
        self._batch_size_max = max(self._batch_size_max, decided.size)
        if len(changes) > changed:
            # Worked out now, while the commit before it is in flight; the batch is written at
            # the time of the last decision that changed something.
            decided.plan = plan_changes(changes, event_id=self._event_id, now_ms=now_ms)
        return decided

    async def _commit(self, decided: DecidedBatch) -> FailedCommit | None:
        """Write one decided batch and answer it; on failure, what every batch decided on top of
        it must get as well (left unanswered, with this batch, when they are to be replayed)."""
        if decided.plan is not None:
            started = time.perf_counter()
            failure = await self._write(decided.plan)
            if failure is not None:
                if failure.replay is None:
                    self._answer_all(decided.requests, failure.rejection)
                    return failure
                return FailedCommit(rejection=failure.rejection, replay=decided.requests)
            self._record_commit(time.perf_counter() - started)
        for request, results in zip(decided.requests, decided.answers, strict=True):
            self._finish(request, results)
        return None

    async def _write(self, plan: ChangePlan) -> FailedCommit | None:
        """Commit one plan under this instance's epoch: None when it is durable. Otherwise memory
        holds changes Postgres does not, so it is marked for a rebuild (or, fenced out, unused);
        `replay` (empty) says Postgres refused the data of some command."""
        assert self._pool is not None and self._tenant_id is not None
        try:
            async with fenced_transaction(
                self._pool, tenant_id=self._tenant_id, event_id=self._event_id, epoch=self._epoch
            ) as fenced:
                await write_planned(fenced, plan=plan)
        except StaleEpoch:
            self._fenced = True
            log.error("fenced out by a newer epoch", extra={"epoch": self._epoch})
            return FailedCommit(rejection=unavailable("this inventory instance was replaced"))
        except InventoryConflict as error:
            self._needs_rebuild = True
            self._commit_failures += 1
            log.error("memory and database disagree", extra={"error": str(error)})
            return FailedCommit(rejection=unavailable("the inventory is being rebuilt; retry"))
        except REFUSED_DATA_ERRORS as error:
            self._needs_rebuild = True
            self._commit_failures += 1
            log.warning("a command's data was refused", extra={"error": repr(error)})
            return FailedCommit(rejection=refused_data(), replay=[])
        except DATABASE_ERRORS as error:
            self._needs_rebuild = True
            self._commit_failures += 1
            log.warning("group commit failed", extra={"error": repr(error)})
            return FailedCommit(rejection=unavailable("the database is unavailable"))
        return None

    async def _replay_one_by_one(self, requests: list[Request]) -> None:
        """Decide and commit each command of `requests` alone, on memory rebuilt first, so only
        a command whose own data Postgres refuses fails (VALIDATION_ERROR)."""
        for request in requests:
            results = [await self._decide_alone(command) for command in request.commands]
            self._finish(request, results)

    async def _decide_alone(self, command: Command) -> Result:
        if self._fenced:
            return unavailable("this inventory instance was replaced")
        if self._needs_rebuild:
            try:
                await self._rebuild()
            except DATABASE_ERRORS as error:
                log.warning("rebuild failed", extra={"error": repr(error)})
                return unavailable("the database is unavailable")
        inventory = self._inventory
        assert inventory is not None
        now_ms = self._clock()
        decision = decide(inventory, command, now_ms)
        self._commands_decided += 1
        if isinstance(decision, Rejected):
            return decision
        for change in decision.changes:
            apply(inventory, change)
        if decision.changes:
            plan = plan_changes(list(decision.changes), event_id=self._event_id, now_ms=now_ms)
            failure = await self._write(plan)
            if failure is not None:
                return failure.rejection
        return decision.outcome

    async def _reconcile_now(self) -> None:
        waiting, self._reconciliations = self._reconciliations, []
        assert self._pool is not None and self._tenant_id is not None
        try:
            if self._needs_rebuild:
                await self._rebuild()
            async with tenant_transaction(self._pool, self._tenant_id) as connection:
                stored = await count_stored_inventory(connection, event_id=self._event_id)
        except DATABASE_ERRORS as error:
            for future in waiting:
                future.set_exception(RuntimeError(f"the database is unavailable: {error!r}"))
            return
        assert self._inventory is not None
        memory = [self._inventory.ticket_type_counts(t) for t in self._inventory.ticket_types]
        differences = count_differences(memory, stored)
        if differences:
            log.error(
                "inventory differs from postgres",
                extra={"event_id": str(self._event_id), "differences": len(differences)},
            )
        for future in waiting:
            future.set_result(differences)

    def _answer_all(self, batch: list[Request], rejection: Rejected) -> None:
        for request in batch:
            self._finish(request, [rejection] * len(request.commands))

    def _record_commit(self, seconds: float) -> None:
        self._batches_committed += 1
        self._commit_seconds_total += seconds
        bucket = next(
            (index for index, bound in enumerate(COMMIT_SECONDS_BUCKETS) if seconds <= bound),
            len(COMMIT_SECONDS_BUCKETS),
        )
        self._commit_seconds_buckets[bucket] += 1
