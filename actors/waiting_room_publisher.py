"""What the WaitingRoomActor writes to Redis after each commit: the room record and the places a
batch's changes altered (every place after a rebuild, or when the keys are gone), in one MULTI so
a reader never sees a head that has passed a place still recorded as waiting. The layout and the
records are `actors.waiting_room_publication`'s.
"""

from collections.abc import Iterable
from typing import assert_never

import redis.asyncio as redis
from redis.typing import EncodableT, FieldT

from actors.waiting_room_publication import (
    PublishedPlace,
    PublishedRoom,
    encode_record,
    fan_digest,
    places_key,
    room_key,
)
from engine import limits
from engine.access_tokens import issue_access_token
from engine.waiting_room.changes import (
    AccessEnded,
    FansAdmitted,
    FansJoined,
    PlacesMovedToPresale,
    PlacesSeen,
    PreQueueDrawn,
    StockRecorded,
    WaitingRoomChange,
    WaitingRoomSettingsChanged,
)
from engine.waiting_room.state import PlaceState, WaitingRoom
from engine.waiting_room.views import count_places, queue_id_for

# The engine numbers place states by their order in PlaceState.
PLACE_STATES_BY_CODE: tuple[PlaceState, ...] = tuple(PlaceState)


def published_sequences(changes: Iterable[WaitingRoomChange], room: WaitingRoom) -> set[int]:
    """The places whose published record these changes alter (`room` is the room after them);
    a poll alters none. The draw alters every place behind the presale line."""
    sequences: set[int] = set()
    for change in changes:
        match change:
            case FansJoined():
                sequences.update(
                    range(change.first_sequence, change.first_sequence + len(change.fan_ids))
                )
            case PreQueueDrawn():
                sequences.update(room.sequence_at_slot[change.presale_count :])
            case PlacesMovedToPresale():
                sequences.update(change.sequences)
            case FansAdmitted():
                sequences.update(change.admitted_sequences)
                sequences.update(change.abandoned_sequences)
            case AccessEnded():
                sequences.update(change.sequences)
            case PlacesSeen() | WaitingRoomSettingsChanged() | StockRecorded():
                pass
            case _:
                assert_never(change)
    return sequences


def published_place(room: WaitingRoom, sequence: int, access_secret: bytes) -> PublishedPlace:
    slot = room.slot_of_sequence[sequence]
    state = PLACE_STATES_BY_CODE[room.states[sequence]]
    fan_id = room.fan_index.fan_id(sequence)
    digest = fan_digest(fan_id)
    if state is not PlaceState.ADMITTED:
        return PublishedPlace(sequence, slot, state, digest)
    expires_at_ms = room.access_expires_at_ms_by_slot[slot]
    token = issue_access_token(
        secret=access_secret,
        event_id=room.settings.event_id,
        fan_id=fan_id,
        expires_at_ms=expires_at_ms,
    )
    return PublishedPlace(sequence, slot, state, digest, expires_at_ms, token)


def published_room(room: WaitingRoom, epoch: int, now_ms: int) -> PublishedRoom:
    counts = count_places(room)
    return PublishedRoom(
        epoch=epoch,
        is_open=room.is_open,
        head_slot=room.head_slot,
        admit_per_second=counts.admit_per_second,
        pre_queue=counts.pre_queue,
        waiting=counts.waiting,
        admitted=counts.admitted,
        published_at_ms=now_ms,
        max_active_shoppers=room.settings.max_active_shoppers,
        access_ttl_s=room.settings.access_ttl_s,
        stock=room.stock,
        sold_out=counts.sold_out,
        presale_count=room.presale_count,
        presale_waiting=counts.presale_waiting,
    )


async def publish_room(
    client: redis.Redis,
    room: WaitingRoom,
    *,
    event_id: str,
    epoch: int,
    access_secret: bytes,
    changed: set[int] | None,
    now_ms: int,
) -> None:
    """Write the committed room in one MULTI: the room record and the places in `changed`, or
    every place when `changed` is None or the room's keys are gone. Raises RedisError."""
    everything = changed is None or not await client.exists(room_key(event_id))
    sequences = range(room.fan_count) if everything or changed is None else sorted(changed)
    async with client.pipeline(transaction=True) as pipeline:
        if everything:
            pipeline.delete(places_key(event_id))
        chunk: dict[FieldT, EncodableT] = {}
        for sequence in sequences:
            place = encode_record(published_place(room, sequence, access_secret))
            chunk[queue_id_for(room.settings.event_id, sequence)] = place
            if len(chunk) == limits.PLACES_PUBLISHED_PER_COMMAND_MAX:
                pipeline.hset(places_key(event_id), mapping=chunk)
                chunk = {}
        if chunk:
            pipeline.hset(places_key(event_id), mapping=chunk)
        pipeline.set(room_key(event_id), encode_record(published_room(room, epoch, now_ms)))
        await pipeline.execute()
