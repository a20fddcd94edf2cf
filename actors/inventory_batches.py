"""The pieces of the InventoryActor's batch loop: a request, the bounded inbox it waits in (first
in, first out, weighed in commands), the batch decided on memory while it waits for its commit,
why a commit failed, and how long requests have waited with none answered (the watchdog's).
The loop itself, and the commit, stay in `actors.inventory_actor`.
"""

import asyncio
from collections import deque
from collections.abc import Callable, Sequence

import msgspec

from actors.inventory_wire import Result
from engine import limits
from engine.changes import Change
from engine.commands import Command
from engine.inventory.apply import execute
from engine.inventory.state import Inventory
from engine.rejections import Rejected
from persistence.inventory_rows import ChangePlan


class Request:
    __slots__ = ("commands", "future")

    def __init__(self, commands: Sequence[Command], future: asyncio.Future[list[Result]] | None):
        self.commands = commands
        self.future = future


class Inbox:
    """Requests in arrival order; `commands` is what they weigh against the inbox's bound."""

    __slots__ = ("_requests", "commands")

    def __init__(self) -> None:
        self._requests: deque[Request] = deque()
        self.commands = 0

    def __bool__(self) -> bool:
        return bool(self._requests)

    def append(self, request: Request) -> None:
        self._requests.append(request)
        self.commands += len(request.commands)

    def first_fits(self, room: int) -> bool:
        """Whether the first request waiting fits in `room` more commands."""
        return bool(self._requests) and len(self._requests[0].commands) <= room

    def take(self, room: int) -> list[Request]:
        """The first requests waiting, as many as fit whole in `room` commands."""
        batch: list[Request] = []
        size = 0
        while self._requests and size + len(self._requests[0].commands) <= room:
            request = self._requests.popleft()
            size += len(request.commands)
            batch.append(request)
        self.commands -= size
        return batch


class Progress:
    """How long requests have waited with none of them finished: the watchdog restarts an actor
    stalled too long."""

    __slots__ = ("_clock", "_progress_ms", "_unfinished")

    def __init__(self, clock: Callable[[], int]) -> None:
        self._clock = clock
        self._unfinished = 0
        self._progress_ms = clock()

    def started(self) -> None:
        self._unfinished += 1
        if self._unfinished == 1:
            self._progress_ms = self._clock()

    def finished(self) -> None:
        self._unfinished -= 1
        self._progress_ms = self._clock()

    def stalled_for_ms(self) -> int:
        """0 while nothing waits."""
        return self._clock() - self._progress_ms if self._unfinished else 0


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


async def decide_requests(
    inventory: Inventory, batch: list[Request], decided: DecidedBatch, now_ms: int
) -> None:
    """Decide and apply each command of `batch` on `inventory`, adding them to `decided`. It gives
    the event loop a turn now and then, so a commit in flight is answered as soon as Postgres
    replies."""
    decisions = 0
    for request in batch:
        results: list[Result] = []
        for command in request.commands:
            decisions += 1
            if decisions % limits.ACTOR_DECISIONS_BETWEEN_TURNS == 0:
                await asyncio.sleep(0)
            decision = execute(inventory, command, now_ms)
            if isinstance(decision, Rejected):
                results.append(decision)
                continue
            decided.changes.extend(decision.changes)
            results.append(decision.outcome)
        decided.requests.append(request)
        decided.answers.append(results)
        decided.size += len(results)
