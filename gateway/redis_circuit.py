"""Redis as a fast path that may be down: each call is bounded by a short timeout, and a failure
opens the circuit for a brief window in which calls are skipped at once, so a dead Redis costs a
request nothing. Use it only where the caller has a correct answer without Redis.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.exceptions

from engine.limits import REDIS_CIRCUIT_OPEN_MS, REDIS_FAST_PATH_TIMEOUT_MS

REDIS_FAILURES = (redis.exceptions.RedisError, OSError, TimeoutError)

log = logging.getLogger(__name__)
Result = TypeVar("Result")


class RedisSkipped(Exception):
    """Redis failed just now, or failed moments ago: the caller goes on without it."""


class RedisCircuit:
    """One per use of Redis (idempotency, rate limits), so each logs under its own name."""

    def __init__(
        self,
        name: str,
        *,
        timeout_ms: int = REDIS_FAST_PATH_TIMEOUT_MS,
        open_ms: int = REDIS_CIRCUIT_OPEN_MS,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        assert timeout_ms > 0 and open_ms > 0
        self._name = name
        self._timeout_s = timeout_ms / 1000
        self._open_s = open_ms / 1000
        self._monotonic_s = monotonic_s
        self._skip_until_s = 0.0
        self._failing = False

    def is_open(self) -> bool:
        return self._monotonic_s() < self._skip_until_s

    async def call(self, operation: Callable[[], Awaitable[Result]]) -> Result:
        """Run `operation` on Redis, or raise RedisSkipped when Redis cannot answer in time."""
        if self.is_open():
            raise RedisSkipped(f"redis circuit {self._name} is open")
        try:
            async with asyncio.timeout(self._timeout_s):
                result = await operation()
        except REDIS_FAILURES as error:
            self._open(error)
            raise RedisSkipped(f"redis failed for {self._name}") from error
        if self._failing:
            self._failing = False
            log.info("redis answers again", extra={"circuit": self._name})
        return result

    def _open(self, error: BaseException) -> None:
        # Calls already in flight when Redis died fail too: only the first of them logs.
        if not self.is_open():
            log.warning(
                "redis failed; skipping it for a while",
                extra={"circuit": self._name, "open_s": self._open_s, "error": repr(error)},
            )
        self._failing = True
        self._skip_until_s = self._monotonic_s() + self._open_s
