"""A payment worker's pace of Stripe refund calls: a token bucket holding at most one second's
share of engine.limits.STRIPE_REFUND_CALLS_PER_SECOND_MAX, refilled continuously, so the pool
as a whole never calls faster than the limit. A call waits for its token; the wait is the pacing.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable


class RefundPacer:
    def __init__(
        self,
        *,
        calls_per_second: float,
        monotonic_s: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        assert calls_per_second > 0
        self._rate = calls_per_second
        self._capacity = max(1.0, calls_per_second)
        self._tokens = self._capacity
        self._monotonic_s = monotonic_s
        self._sleep = sleep
        self._refilled_at_s = monotonic_s()
        self._taking = asyncio.Lock()

    async def take(self) -> None:
        """Wait for a token; callers are served one at a time, in turn."""
        async with self._taking:
            self._refill()
            if self._tokens < 1:
                await self._sleep((1 - self._tokens) / self._rate)
                self._refill()
            self._tokens -= 1

    def _refill(self) -> None:
        now_s = self._monotonic_s()
        self._tokens = min(
            self._capacity, self._tokens + (now_s - self._refilled_at_s) * self._rate
        )
        self._refilled_at_s = now_s
