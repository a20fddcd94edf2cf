"""The InventoryActor's batch serving loop: it decides the next batch while the previous one
commits, so whatever arrives before that commit ends joins it (up to a batch); commits run one at
a time, in order, and a batch decided on top of a failed one is answered with it or replayed. The
actor (`actors.inventory_actor`) supplies the deciding, the commit, the replay and the
reconciliation; a change to the order in which batches are decided and committed belongs here.
"""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable

from actors.inventory_batches import DecidedBatch, FailedCommit, Inbox, Progress, Request
from actors.inventory_figures import CountDifference
from actors.inventory_wire import Result
from engine import limits
from engine.rejections import Rejected


class InventoryBatchLoop(ABC):
    """The loop's state: the bounded inbox, the reconciliations waiting their turn, the wake-up
    of the loop, whether it idles, and how long requests have waited with none answered."""

    def __init__(self, clock: Callable[[], int]) -> None:
        self._inbox = Inbox()
        self._progress = Progress(clock)
        self._reconciliations: list[asyncio.Future[list[CountDifference]]] = []
        self._wakeup: asyncio.Event | None = None
        self._loop_idle = True

    @abstractmethod
    async def _decide(
        self, batch: list[Request], decided: DecidedBatch | None
    ) -> DecidedBatch | None: ...

    @abstractmethod
    async def _commit(self, decided: DecidedBatch) -> FailedCommit | None: ...

    @abstractmethod
    async def _replay_one_by_one(self, requests: list[Request]) -> None: ...

    @abstractmethod
    async def _reconcile_now(self) -> None: ...

    def _enqueue(self, request: Request) -> None:
        self._inbox.append(request)
        self._progress.started()
        assert self._wakeup is not None
        self._wakeup.set()

    def _finish(self, request: Request, results: list[Result]) -> None:
        """Answer a request (an expiry sweep has nobody to answer): the loop made progress."""
        if request.future is not None and not request.future.done():
            request.future.set_result(results)
        self._progress.finished()

    async def _serve_batches(self) -> None:
        """Decide the next batch while the previous one commits: whatever arrives before that
        commit ends joins it (up to a batch). A pending reconciliation lets the commit in flight
        finish and runs before anything else is decided."""
        assert self._wakeup is not None
        committing: asyncio.Task[FailedCommit | None] | None = None
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
                self._inbox.first_fits(room)
                and not self._reconciliations
                and (decided is None or committing is not None)
            ):
                decided = await self._decide(self._inbox.take(room), decided)
                continue
            self._loop_idle = committing is None and decided is None
            await self._wakeup.wait()
            self._wakeup.clear()
            self._loop_idle = False

    def _wake(self, _: object) -> None:
        assert self._wakeup is not None
        self._wakeup.set()

    def _answer_all(self, batch: list[Request], rejection: Rejected) -> None:
        for request in batch:
            self._finish(request, [rejection] * len(request.commands))
