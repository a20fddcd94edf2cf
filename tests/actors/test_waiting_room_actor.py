"""The WaitingRoomActor on a real Ray, Postgres and Redis: joins in batches, the draw at opening,
admission by rate under a clock the test moves, positions served from Redis, and a restart or a
lost Redis that changes nothing a fan sees."""

import asyncio
import pathlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import pytest
import ray
import redis.asyncio as redis

from actors.remote import waiting_room_actor
from actors.shopper_exit import shopper_exit_consumer
from actors.waiting_room_client import WaitingRoomClient
from actors.waiting_room_publication import (
    decode_room,
    places_key,
    polls_key,
    queue_position,
    room_key,
)
from engine.access_tokens import AccessGrant, verify_access_token
from engine.pre_queue_draw import draw_pre_queue_order
from engine.rejections import Reason, Rejected
from engine.waiting_room.commands import ChangeWaitingRoomSettings
from engine.waiting_room.state import PlaceState
from engine.waiting_room.views import PlaceView, QueueCounts, queue_id_for
from notifications.notices import Notice, NoticeKind, encode_notice, notice_topic
from persistence.outbox import OutboxMessage
from persistence.pool import service_url
from persistence.tenancy import tenant_transaction
from tests.actors.clocks import FileClock
from tests.persistence.builders import INSERT_EVENT, INSERT_VENUE, create_tenant

ACCESS_SECRET = b"waiting-room-test-secret-of-32-bytes!"
WAIT_TIMEOUT_S = 20.0
WAIT_INTERVAL_S = 0.05
FANS = [f"fan-{number:02d}" for number in range(20)]
# Long enough for the actor's ticker to turn a few times.
TICKS_S = 0.75

T = TypeVar("T")

pytestmark = pytest.mark.usefixtures("ray_cluster")


@dataclass(frozen=True, kw_only=True)
class Room:
    event_id: str
    tenant_id: uuid.UUID
    opens_at_ms: int
    clock: FileClock
    client: WaitingRoomClient
    handle: ray.actor.ActorHandle
    redis: redis.Redis
    service_pool: asyncpg.Pool


@pytest.fixture
async def room(
    migrated_database_url: str,
    owner_connection: asyncpg.Connection,
    service_pool: asyncpg.Pool,
    redis_url: str,
    tmp_path: pathlib.Path,
) -> AsyncIterator[Room]:
    """A new event and its actor, the clock standing a minute before the room opens."""
    tenant_id = await create_tenant(owner_connection, f"Tenant {secrets.token_hex(4)}")
    async with tenant_transaction(service_pool, tenant_id) as connection:
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_uuid = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
        await connection.execute(
            "INSERT INTO event_directory (event_id, owner_tenant_id) VALUES ($1, $2)",
            event_uuid,
            tenant_id,
        )
        opens_at_ms = await connection.fetchval(
            "SELECT (extract(epoch FROM opens_at) * 1000)::bigint FROM events WHERE id = $1",
            event_uuid,
        )
    event_id = str(event_uuid)
    clock = FileClock(tmp_path / "now_ms")
    clock.set(opens_at_ms - 60_000)
    database_url = service_url(migrated_database_url)
    client = WaitingRoomClient(event_id, database_url, redis_url, ACCESS_SECRET, clock)
    handle = waiting_room_actor(event_id, database_url, redis_url, ACCESS_SECRET, clock)
    redis_client = redis.from_url(redis_url)
    try:
        yield Room(
            event_id=event_id,
            tenant_id=tenant_id,
            opens_at_ms=opens_at_ms,
            clock=clock,
            client=client,
            handle=handle,
            redis=redis_client,
            service_pool=service_pool,
        )
    finally:
        ray.kill(handle, no_restart=True)
        await redis_client.delete(room_key(event_id), places_key(event_id), polls_key(event_id))
        await redis_client.aclose()


async def eventually(read: Callable[[], Awaitable[T]], accept: Callable[[T], bool]) -> T:
    """The first value `read` gives that `accept` takes, polling until WAIT_TIMEOUT_S."""
    deadline = asyncio.get_running_loop().time() + WAIT_TIMEOUT_S
    while True:
        value = await read()
        if accept(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"still {value!r}"
        await asyncio.sleep(WAIT_INTERVAL_S)


async def join_all(room: Room, fans: list[str]) -> dict[str, PlaceView]:
    results = await asyncio.gather(*(room.client.join(fan) for fan in fans))
    views = {}
    for fan, result in zip(fans, results, strict=True):
        assert isinstance(result, PlaceView), result
        views[fan] = result
    return views


async def published_views(room: Room, queue_ids: dict[str, str]) -> dict[str, PlaceView]:
    now_ms = room.clock()
    views = {}
    for fan, queue_id in queue_ids.items():
        view = await queue_position(room.redis, room.event_id, queue_id, now_ms, fan_id=fan)
        assert isinstance(view, PlaceView), view
        views[fan] = view
    return views


async def published_counts(room: Room) -> tuple[int, int, bool, int]:
    """Epoch, admitted, open and head slot, as the room record in Redis says."""
    data = await room.redis.get(room_key(room.event_id))
    if data is None:
        return (0, 0, False, 0)
    published = decode_room(data)
    return (published.epoch, published.admitted, published.is_open, published.head_slot)


async def published_epoch_once_ready(room: Room) -> int:
    """The published epoch after asking the actor to start: `ray.kill` returns before the old
    instance is gone, and only a call starts the instance Ray puts in its place."""
    await room.client.ready()
    return (await published_counts(room))[0]


async def counts(room: Room) -> QueueCounts:
    answer = await room.client.counts()
    assert isinstance(answer, QueueCounts), answer
    return answer


async def draw_seed(room: Room) -> int:
    async with tenant_transaction(room.service_pool, room.tenant_id) as connection:
        seed = await connection.fetchval(
            "SELECT draw_seed FROM waiting_rooms WHERE event_id = $1", uuid.UUID(room.event_id)
        )
    assert seed is not None
    return int(seed)


async def last_seen_ms(room: Room, fan: str) -> int:
    async with tenant_transaction(room.service_pool, room.tenant_id) as connection:
        seen: int = await connection.fetchval(
            "SELECT last_seen_ms FROM waiting_room_places WHERE event_id = $1 AND fan_id = $2",
            uuid.UUID(room.event_id),
            fan,
        )
    return seen


async def open_with_all_fans(room: Room) -> tuple[dict[str, str], list[str]]:
    """Join FANS before opening, open at `opens_at`; the queue ids and the fans in drawn order."""
    views = await join_all(room, FANS)
    room.clock.set(room.opens_at_ms)
    await eventually(lambda: published_counts(room), lambda published: published[2])
    sequence_of = {queue_id_for(room.event_id, sequence): sequence for sequence in range(len(FANS))}
    fan_at_sequence = {sequence_of[view.queue_id]: fan for fan, view in views.items()}
    order = draw_pre_queue_order(await draw_seed(room), len(FANS))
    return {fan: view.queue_id for fan, view in views.items()}, [
        fan_at_sequence[sequence] for sequence in order
    ]


async def test_each_fan_keeps_one_place_when_joining_in_batches_before_opening(
    room: Room,
) -> None:
    first = await join_all(room, FANS)
    again = await join_all(room, list(reversed(FANS)))

    queue_ids = {fan: view.queue_id for fan, view in first.items()}
    assert len(set(queue_ids.values())) == len(FANS)
    assert {fan: view.queue_id for fan, view in again.items()} == queue_ids
    assert {view.state for view in [*first.values(), *again.values()]} == {PlaceState.PRE_QUEUE}
    assert {view.position for view in first.values()} == {None}
    assert await published_views(room, queue_ids) == first
    assert (await counts(room)).pre_queue == len(FANS)


async def test_poll_is_answered_without_a_place_when_the_queue_id_or_the_room_is_unknown(
    room: Room,
) -> None:
    await join_all(room, FANS[:1])
    unknown_queue_id = queue_id_for(room.event_id, len(FANS))
    unpublished_event_id = str(uuid.uuid4())

    unknown_place = await queue_position(
        room.redis, room.event_id, unknown_queue_id, room.clock(), fan_id=FANS[0]
    )
    unknown_room = await queue_position(
        room.redis, unpublished_event_id, unknown_queue_id, room.clock(), fan_id=FANS[0]
    )

    assert isinstance(unknown_place, Rejected) and unknown_place.reason is Reason.NOT_FOUND
    assert isinstance(unknown_room, Rejected) and unknown_room.reason is Reason.UNAVAILABLE


async def test_invalid_fan_id_is_refused_alone_when_joining_with_others(room: Room) -> None:
    results = await asyncio.gather(room.client.join(""), room.client.join("fan-valid"))

    assert isinstance(results[0], Rejected)
    assert results[0].reason is Reason.VALIDATION_ERROR
    assert isinstance(results[1], PlaceView)
    assert results[1].state is PlaceState.PRE_QUEUE


async def test_queue_is_in_drawn_order_when_the_room_opens(room: Room) -> None:
    queue_ids, drawn = await open_with_all_fans(room)

    published = await published_views(room, queue_ids)
    from_actor = await join_all(room, FANS)

    assert {fan: published[fan].position for fan in FANS} == {
        fan: position for position, fan in enumerate(drawn)
    }
    assert published == from_actor
    assert {view.state for view in published.values()} == {PlaceState.WAITING}
    assert published[drawn[-1]].eta_s == (len(FANS) - 1) // 50 + 1


async def test_fans_are_admitted_at_the_rate_in_order_when_time_passes(room: Room) -> None:
    queue_ids, drawn = await open_with_all_fans(room)
    assert await room.client.change_settings(
        ChangeWaitingRoomSettings(admit_per_second=4)
    ) == QueueCounts(pre_queue=0, waiting=len(FANS), admitted=0, admit_per_second=4, sold_out=0)

    room.clock.set(room.opens_at_ms + 1_000)
    await eventually(lambda: published_counts(room), lambda published: published[1] == 4)
    room.clock.set(room.opens_at_ms + 1_500)
    await eventually(lambda: published_counts(room), lambda published: published[1] == 6)

    published = await published_views(room, queue_ids)
    admitted = [fan for fan in drawn if published[fan].state is PlaceState.ADMITTED]
    assert admitted == drawn[:6]
    assert [published[fan].position for fan in drawn[6:]] == list(range(len(FANS) - 6))
    assert published == await join_all(room, FANS)
    for fan in admitted:
        token = published[fan].access_token
        assert token is not None
        grant = verify_access_token(
            secret=ACCESS_SECRET,
            token=token,
            event_id=room.event_id,
            fan_id=fan,
            now_ms=room.clock(),
        )
        assert isinstance(grant, AccessGrant)
    assert await room.client.end_access(admitted[:2]) is None
    assert (await counts(room)).admitted == 4


async def test_place_is_skipped_when_its_fan_stopped_polling(room: Room) -> None:
    assert isinstance(
        await room.client.change_settings(ChangeWaitingRoomSettings(admit_per_second=1)),
        QueueCounts,
    )
    room.clock.set(room.opens_at_ms)
    await eventually(lambda: published_counts(room), lambda published: published[2])
    views = await join_all(room, ["first", "gone", "polling"])
    polled_at_ms = room.opens_at_ms + 119_000
    room.clock.set(polled_at_ms)

    await queue_position(
        room.redis, room.event_id, views["polling"].queue_id, polled_at_ms, fan_id="polling"
    )
    await eventually(lambda: last_seen_ms(room, "polling"), lambda seen: seen == polled_at_ms)
    room.clock.set(room.opens_at_ms + 121_000)
    await eventually(lambda: published_counts(room), lambda published: published[3] == 3)

    states = {
        fan: view.state
        for fan, view in (
            await published_views(room, {fan: view.queue_id for fan, view in views.items()})
        ).items()
    }
    assert states == {
        "first": PlaceState.ADMITTED,
        "gone": PlaceState.EXPIRED,
        "polling": PlaceState.ADMITTED,
    }
    assert await last_seen_ms(room, "gone") == room.opens_at_ms


async def test_room_is_rebuilt_the_same_when_the_actor_is_killed(room: Room) -> None:
    queue_ids, _ = await open_with_all_fans(room)
    assert isinstance(
        await room.client.change_settings(ChangeWaitingRoomSettings(admit_per_second=3)),
        QueueCounts,
    )
    room.clock.set(room.opens_at_ms + 1_000)
    epoch, _, _, _ = await eventually(
        lambda: published_counts(room), lambda published: published[1] == 3
    )
    before = await published_views(room, queue_ids)

    ray.kill(room.handle, no_restart=False)
    await eventually(lambda: published_epoch_once_ready(room), lambda published: published > epoch)

    assert await published_views(room, queue_ids) == before
    assert await join_all(room, FANS) == before
    assert await counts(room) == QueueCounts(
        pre_queue=0, waiting=len(FANS) - 3, admitted=3, admit_per_second=3, sold_out=0
    )


async def test_serving_state_is_published_again_when_redis_loses_it(room: Room) -> None:
    queue_ids, _ = await open_with_all_fans(room)
    before = await published_views(room, queue_ids)

    deleted = await room.redis.delete(room_key(room.event_id), places_key(room.event_id))
    await eventually(lambda: published_counts(room), lambda published: published[2])

    assert deleted == 2
    assert await published_views(room, queue_ids) == before


def confirmed_order(room: Room, caller: str) -> OutboxMessage:
    """The notice settlement writes for a paid order: its `user_id` is the buyer's caller."""
    notice = Notice(
        kind=NoticeKind.ORDER_CONFIRMED,
        tenant_id=room.tenant_id,
        event_id=uuid.UUID(room.event_id),
        event_name="Waiting Room Night",
        order_id=uuid.uuid4(),
        user_id=caller,
        email=None,
        total_cents=8_000,
        currency="USD",
    )
    return OutboxMessage(
        message_id=uuid.uuid4(),
        position=1,
        tenant_id=room.tenant_id,
        topic=notice_topic(NoticeKind.ORDER_CONFIRMED),
        aggregate_id=str(notice.order_id),
        payload=encode_notice(notice),
        attempts=0,
    )


async def test_a_confirmed_order_frees_its_fans_shopper_slot_once(room: Room) -> None:
    callers = [f"{room.tenant_id}/{user}" for user in ("buyer", "browser", "other")]
    await join_all(room, callers)
    room.clock.set(room.opens_at_ms)
    await eventually(lambda: published_counts(room), lambda published: published[2])
    assert isinstance(
        await room.client.change_settings(ChangeWaitingRoomSettings(admit_per_second=10)),
        QueueCounts,
    )
    room.clock.set(room.opens_at_ms + 1_000)
    await eventually(lambda: published_counts(room), lambda published: published[1] == 3)
    free_slots = shopper_exit_consumer()

    first = await free_slots(
        [confirmed_order(room, callers[0]), confirmed_order(room, f"{room.tenant_id}/nobody")]
    )
    again = await free_slots([confirmed_order(room, callers[0])])

    assert first == [None, None] and again == [None]
    assert (await counts(room)).admitted == 2


async def room_settings(room: Room) -> tuple[int, int, int, int]:
    """Opens at, rate, cap and access time to live, as the room's row in Postgres has them."""
    async with tenant_transaction(room.service_pool, room.tenant_id) as connection:
        row = await connection.fetchrow(
            """
            SELECT opens_at_ms, admit_per_second, max_active_shoppers, access_ttl_s
            FROM waiting_rooms WHERE event_id = $1
            """,
            uuid.UUID(room.event_id),
        )
    assert row is not None
    return (
        row["opens_at_ms"],
        row["admit_per_second"],
        row["max_active_shoppers"],
        row["access_ttl_s"],
    )


def token_expiry_ms(view: PlaceView) -> int:
    """The expiry an access token carries: `wr1.<event>.<fan>.<expires_at_ms>.<mac>`."""
    assert view.access_token is not None
    return int(view.access_token.split(".")[3])


async def test_changed_settings_and_granted_accesses_are_kept_when_the_actor_is_killed(
    room: Room,
) -> None:
    moved_opens_at_ms = room.opens_at_ms + 30_000
    change = ChangeWaitingRoomSettings(opens_at_ms=moved_opens_at_ms, admit_per_second=2)
    assert isinstance(await room.client.change_settings(change), QueueCounts)
    assert await room_settings(room) == (moved_opens_at_ms, 2, 2000, 900)
    views = await join_all(room, FANS)
    room.clock.set(room.opens_at_ms + 1_000)
    await asyncio.sleep(TICKS_S)
    assert (await published_counts(room))[2] is False, "the room opens at the moved time"
    room.clock.set(moved_opens_at_ms)
    await eventually(lambda: published_counts(room), lambda published: published[2])
    room.clock.set(moved_opens_at_ms + 1_000)
    await eventually(lambda: published_counts(room), lambda published: published[1] == 2)
    change = ChangeWaitingRoomSettings(access_ttl_s=120, max_active_shoppers=3)
    assert isinstance(await room.client.change_settings(change), QueueCounts)
    room.clock.set(moved_opens_at_ms + 2_000)
    epoch, _, _, _ = await eventually(
        lambda: published_counts(room), lambda published: published[1] == 3
    )
    queue_ids = {fan: view.queue_id for fan, view in views.items()}
    before = await published_views(room, queue_ids)

    ray.kill(room.handle, no_restart=False)
    await eventually(lambda: published_epoch_once_ready(room), lambda published: published > epoch)

    after = await published_views(room, queue_ids)
    admitted = [fan for fan in FANS if after[fan].state is PlaceState.ADMITTED]
    assert after == before
    assert sorted(token_expiry_ms(after[fan]) for fan in admitted) == [
        moved_opens_at_ms + 2_000 + 120_000,
        moved_opens_at_ms + 1_000 + 900_000,
        moved_opens_at_ms + 1_000 + 900_000,
    ]
    assert await room_settings(room) == (moved_opens_at_ms, 2, 3, 120)
    published = decode_room(await room.redis.get(room_key(room.event_id)))
    assert (published.max_active_shoppers, published.access_ttl_s) == (3, 120)
    room.clock.set(moved_opens_at_ms + 10_000)
    await asyncio.sleep(TICKS_S)
    assert (await counts(room)).admitted == 3, "the cap of 3 holds after the restart"
