"""The WaitingRoomActor's bounded inbox: fans' requests and the ticker's turns wait here, first in,
first out, weighed in fans, and leave in batches of at most WAITING_ROOM_BATCH_FANS_MAX fans (a
single request may be larger: it leaves alone).
"""

import asyncio
from collections import deque

import msgspec

from engine import limits
from engine.waiting_room.commands import WaitingRoomCommand


class Tick(msgspec.Struct, frozen=True):
    """The ticker's turn in the inbox: open, record polls, expire access, admit."""


class Request:
    """One inbox entry; `fan_count` is what it weighs against the inbox and batch bounds."""

    __slots__ = ("command", "fan_count", "fan_ids", "future")

    def __init__(
        self,
        command: WaitingRoomCommand | Tick,
        future: asyncio.Future[object] | None,
        fan_ids: list[str] | None = None,
    ) -> None:
        self.command = command
        self.future = future
        self.fan_ids = fan_ids
        self.fan_count = max(1, len(fan_ids or ()))


class RoomInbox:
    """Requests in arrival order; `fans` is what they weigh against the inbox's bound."""

    __slots__ = ("_requests", "fans")

    def __init__(self) -> None:
        self._requests: deque[Request] = deque()
        self.fans = 0

    def __bool__(self) -> bool:
        return bool(self._requests)

    def append(self, request: Request) -> None:
        self._requests.append(request)
        self.fans += request.fan_count

    def take_batch(self) -> list[Request]:
        """The first requests waiting, up to a batch's fans (at least one request)."""
        batch: list[Request] = []
        fans = 0
        while self._requests and (
            not batch or fans + self._requests[0].fan_count <= limits.WAITING_ROOM_BATCH_FANS_MAX
        ):
            request = self._requests.popleft()
            fans += request.fan_count
            batch.append(request)
        self.fans -= fans
        return batch
