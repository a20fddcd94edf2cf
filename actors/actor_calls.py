"""How a caller awaits an actor's answer, and the errors a call raises when the actor cannot
answer: it died, it is restarting, or the answer did not come in time. A caller turns those into
UNAVAILABLE or a retry, never into an answer; every call is bounded by the timeout it is given."""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError

ACTOR_CALL_ERRORS = (RayActorError, ActorUnavailableError, GetTimeoutError, TimeoutError)

T = TypeVar("T")


async def actor_answer(reference: Awaitable[T], *, timeout_s: float) -> T:
    """The answer of one actor call, awaited in the caller's own task. `asyncio.wait_for` would
    await it in a task of its own, and the answer would reach the caller two turns of the event
    loop later: at a sale's peak every turn waits behind many requests."""
    async with asyncio.timeout(timeout_s):
        return await reference
