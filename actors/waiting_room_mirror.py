"""The WaitingRoomActor's side of Redis, a cache of its committed room: the client, the places
Redis still lacks (every place after a rebuild or a failed publish, else those the commits since
the last publish changed), publishing them (`actors.waiting_room_publisher`), and draining the
polls the gateways recorded. A failed publish or drain is logged and waits for the next tick.
"""

import logging
from collections.abc import Iterable

import redis.asyncio as redis
from redis.exceptions import RedisError

from actors.waiting_room_publication import polls_key
from actors.waiting_room_publisher import publish_room, published_sequences
from engine import limits
from engine.waiting_room.changes import WaitingRoomChange
from engine.waiting_room.state import WaitingRoom

log = logging.getLogger(__name__)


class RoomMirror:
    """Connects in `connect` (the actor's `start`), never in `__init__`."""

    def __init__(self, *, redis_url: str, event_id: str, access_secret: bytes) -> None:
        self._redis_url = redis_url
        self._event_id = event_id
        self._access_secret = access_secret
        self._client: redis.Redis | None = None
        self._publish_everything = True
        self._unpublished: set[int] = set()

    def connect(self) -> None:
        if self._client is None:
            self._client = redis.from_url(self._redis_url)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def republish_everything(self) -> None:
        """The next publish writes every place: the room in memory was rebuilt."""
        self._publish_everything = True
        self._unpublished.clear()

    def note_committed(self, changes: Iterable[WaitingRoomChange], room: WaitingRoom) -> None:
        """The places these committed changes altered wait for the next publish."""
        self._unpublished |= published_sequences(changes, room)

    async def drain_polls(self) -> list[int]:
        """Join sequences the gateways saw polling since the last tick; none if Redis is down."""
        assert self._client is not None
        try:
            members = await self._client.spop(
                polls_key(self._event_id), limits.FANS_PER_POLL_COMMAND_MAX
            )
        except RedisError as error:
            log.warning("cannot drain polls", extra={"error": repr(error)})
            return []
        return [int(member) for member in members or ()]

    async def publish(self, room: WaitingRoom, *, epoch: int, now_ms: int) -> None:
        """Write the committed room to Redis: the places it changed, or every place after a
        rebuild; after a failure, every place the next time."""
        assert self._client is not None
        try:
            await publish_room(
                self._client,
                room,
                event_id=self._event_id,
                epoch=epoch,
                access_secret=self._access_secret,
                changed=None if self._publish_everything else self._unpublished,
                now_ms=now_ms,
            )
        except RedisError as error:
            self.republish_everything()
            log.warning("waiting room publish failed", extra={"error": repr(error)})
            return
        self._publish_everything = False
        self._unpublished.clear()
