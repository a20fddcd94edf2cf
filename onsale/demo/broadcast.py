"""A one-time signal that thousands of sleeping fans wait on, each with a timeout of their own.

`asyncio.Event.wait` under `asyncio.wait_for` costs a task per sleep, and a sleep that times out
removes its waiter from the event's deque by a scan of every other waiter: with 20,000 fans
asleep, each poll's pause cost the driver a scan of 20,000. Here a sleep is one future and one
timer, kept in a set, so it costs the same however many fans sleep.
"""

import asyncio


class Broadcast:
    def __init__(self) -> None:
        self._sleepers: set[asyncio.Future[None]] = set()
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        """Wake every sleeper, now and for good."""
        self._set = True
        for sleeper in self._sleepers:
            if not sleeper.done():
                sleeper.set_result(None)
        self._sleepers.clear()

    async def sleep(self, delay_s: float) -> bool:
        """Sleep `delay_s`, or less if the signal comes meanwhile; True once it has come."""
        if self._set:
            return True
        loop = asyncio.get_running_loop()
        sleeper: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(delay_s, wake, sleeper)
        self._sleepers.add(sleeper)
        try:
            await sleeper
        finally:
            timer.cancel()
            self._sleepers.discard(sleeper)
        return self._set

    async def wait(self) -> None:
        """Until the signal comes."""
        while not await self.sleep(3_600.0):
            pass


def wake(sleeper: asyncio.Future[None]) -> None:
    if not sleeper.done():
        sleeper.set_result(None)
