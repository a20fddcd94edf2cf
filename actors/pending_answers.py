"""The callers a client's batch answers, each waiting until its own deadline: how long one actor
call may wait for them, who is still waiting, and the back-off between attempts. Both event
clients (`actors.inventory_client`, `actors.waiting_room_client`) batch this way; a change here
changes how long every request may wait on an actor.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from engine import limits
from engine.limits import MILLISECONDS_PER_SECOND
from engine.rejections import Rejected

# The moment (time.monotonic) by which the caller must have its answer; None if it has no deadline.
DeadlineSource = Callable[[], float | None]

Answer = TypeVar("Answer")
Waiting = TypeVar("Waiting", bound="Pending[Any]")


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


class Pending(Generic[Answer]):
    """A caller waiting for its answer from a batch, until its deadline."""

    __slots__ = ("deadline_s", "future")

    def __init__(self, deadline_s: float | None, future: asyncio.Future[Answer]) -> None:
        self.deadline_s = deadline_s
        self.future = future

    def answer(self, result: Answer) -> None:
        if not self.future.done():
            self.future.set_result(result)


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
