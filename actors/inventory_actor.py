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
retires when its Supervisor asks (`retire`), and is started again on demand. The loop's order is
`actors.inventory_batch_loop`'s; what it decides, commits and replays is this module's.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import asyncpg

from actors.inventory_batch_loop import InventoryBatchLoop
from actors.inventory_batches import (
    DecidedBatch,
    FailedCommit,
    Request,
    decide_requests,
)
from actors.inventory_figures import (
    CountDifference,
    InventorySnapshot,
    PipelineCounters,
    PipelineStats,
)
from actors.inventory_reconciliation import differences_from_postgres
from actors.inventory_wire import COMMANDS_DECODER, RESULTS_ENCODER, Result
from actors.lifecycle import (
    ActorRetired,
    LazyStart,
    TenantAtCapacity,
    check_tenant_capacity,
    open_event_pool,
    refused_data,
    start_loop,
    unavailable,
)
from actors.wall_clock import wall_clock_ms
from engine import limits
from engine.commands import Command, ExpireHolds
from engine.inventory.apply import execute
from engine.inventory.state import Inventory
from engine.inventory.unit_counts import TicketTypeCounts
from engine.limits import MILLISECONDS_PER_SECOND
from engine.rejections import Reason, Rejected
from engine.stock import Stock
from persistence.database_errors import DATABASE_ERRORS, REFUSED_DATA_ERRORS
from persistence.epochs import StaleEpoch, fenced_transaction, take_epoch
from persistence.inventory_reads import load_inventory_rows
from persistence.inventory_rows import ChangePlan, plan_changes
from persistence.inventory_writes import InventoryConflict, write_planned
from persistence.tenancy import tenant_transaction

log = logging.getLogger(__name__)


class InventoryActor(InventoryBatchLoop):
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
        super().__init__(clock)
        self._tasks: list[asyncio.Task[None]] = []
        self._counters = PipelineCounters()
        self._last_used_ms = self._clock()
        self._retired = False

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
        elif self._inbox.commands + len(commands) > limits.ACTOR_INBOX_COMMANDS_MAX:
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

    async def stock(self) -> Stock | None:
        """What the event has left, as memory has it (a batch decided on top of the commit in
        flight included: a failed commit rebuilds memory, and the next answer corrects this one);
        None while the inventory cannot start. Raises ActorRetired once this instance retired."""
        if self._retired:
            raise ActorRetired(f"the inventory of {self._event_id} retired")
        if not await self._started() or self._inventory is None:
            return None
        return Stock.of_counts(self._inventory.counts.values())

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
        return self._counters.stats(
            epoch=self._epoch,
            inbox_commands=self._inbox.commands,
            stalled_for_ms=self._progress.stalled_for_ms(),
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
        self._counters.rebuilds += 1
        self._counters.rebuild_seconds_last = time.perf_counter() - started
        log.info(
            "inventory rebuilt",
            extra={
                "event_id": str(self._event_id),
                "epoch": self._epoch,
                "seconds": round(self._counters.rebuild_seconds_last, 3),
            },
        )

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
        changed, size = len(decided.changes), decided.size
        await decide_requests(inventory, batch, decided, now_ms)
        self._counters.commands_decided += decided.size - size
        self._counters.batch_size_max = max(self._counters.batch_size_max, decided.size)
        if len(decided.changes) > changed:
            # Worked out now, while the commit before it is in flight; the batch is written at
            # the time of the last decision that changed something.
            decided.plan = plan_changes(decided.changes, event_id=self._event_id, now_ms=now_ms)
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
            self._counters.record_commit(time.perf_counter() - started)
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
            self._counters.commit_failures += 1
            log.error("memory and database disagree", extra={"error": str(error)})
            return FailedCommit(rejection=unavailable("the inventory is being rebuilt; retry"))
        except REFUSED_DATA_ERRORS as error:
            self._needs_rebuild = True
            self._counters.commit_failures += 1
            log.warning("a command's data was refused", extra={"error": repr(error)})
            return FailedCommit(rejection=refused_data(), replay=[])
        except DATABASE_ERRORS as error:
            self._needs_rebuild = True
            self._counters.commit_failures += 1
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
        decision = execute(inventory, command, now_ms)
        self._counters.commands_decided += 1
        if isinstance(decision, Rejected):
            return decision
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
            assert self._inventory is not None
            differences = await differences_from_postgres(
                self._pool,
                tenant_id=self._tenant_id,
                event_id=self._event_id,
                inventory=self._inventory,
            )
        except DATABASE_ERRORS as error:
            for future in waiting:
                future.set_exception(RuntimeError(f"the database is unavailable: {error!r}"))
            return
        for future in waiting:
            future.set_result(differences)
