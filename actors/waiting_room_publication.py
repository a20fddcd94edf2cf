"""The waiting room's serving state in Redis: the key layout, the records, and the O(1) read a
gateway answers a position poll with. The WaitingRoomActor is the only writer.

Per event, hash-tagged so the keys share a Redis Cluster slot:
- `waiting_room:{<event_id>}:room` — one msgpack `PublishedRoom`: the head slot, the settings,
  the counters and the epoch of the actor that wrote it.
- `waiting_room:{<event_id>}:places` — a hash, queue id → msgpack `PublishedPlace`: the place's
  join sequence, its queue slot, its state and, once admitted, its access token and expiry.
- `waiting_room:{<event_id>}:polls` — a set of join sequences polled since the actor's last tick;
  the actor drains it (SPOP) and records the polls, so a poll never calls the actor.

Positions are exact, not estimated: the engine's position is `slot - head_slot` for a waiting place
(a place passed over as abandoned counts as ahead until the head reaches it, in the actor as
here), plus the pre-queue for a place that joined after `opens_at` but before the draw; the
presale line's places take the first `presale_count` slots. A place's slot is written once when it
joins (a pre-queue place has none) or moves to the presale line, again only at the draw, and its
record changes again only when the head passes it (admitted or abandoned) or its access ends. So a
tick rewrites the room record plus the places the head passed, bounded by the admission rate,
never the million places behind them. Each publish is one MULTI/EXEC, so a reader never sees a
head that has passed a place still recorded as waiting. The trade-off: the draw rewrites every
pre-queue place once, and a restarted actor (or a flushed Redis) republishes every place once.
"""

import hashlib
import hmac

import msgspec
import redis.asyncio as redis

from engine.rejections import Reason, Rejected
from engine.stock import Stock
from engine.waiting_room.state import PlaceState
from engine.waiting_room.views import PlaceView, position_at_slot, shown_state


class PublishedRoom(msgspec.Struct, frozen=True, kw_only=True):
    """The settings and the stock last are None in a record an older actor wrote."""

    epoch: int
    is_open: bool
    head_slot: int
    admit_per_second: int
    pre_queue: int
    waiting: int
    admitted: int
    published_at_ms: int
    max_active_shoppers: int | None = None
    access_ttl_s: int | None = None
    stock: Stock | None = None
    sold_out: int = 0
    presale_count: int = 0
    presale_waiting: int = 0


class PublishedPlace(msgspec.Struct, frozen=True, array_like=True):
    """One place, encoded as a msgpack array to keep a million of them small.

    Queue ids can be derived by anyone, so a place carries a digest of its fan: a poll of another
    fan's place is NOT_FOUND.
    """

    sequence: int
    slot: int
    state: PlaceState
    fan_digest: bytes
    access_expires_at_ms: int | None = None
    access_token: str | None = None


_encoder = msgspec.msgpack.Encoder()
_room_decoder = msgspec.msgpack.Decoder(PublishedRoom)
_place_decoder = msgspec.msgpack.Decoder(PublishedPlace)


def room_key(event_id: str) -> str:
    return f"waiting_room:{{{event_id}}}:room"


def places_key(event_id: str) -> str:
    return f"waiting_room:{{{event_id}}}:places"


def polls_key(event_id: str) -> str:
    return f"waiting_room:{{{event_id}}}:polls"


FAN_DIGEST_BYTES = 8


def fan_digest(fan_id: str) -> bytes:
    return hashlib.sha256(fan_id.encode()).digest()[:FAN_DIGEST_BYTES]


def encode_record(record: PublishedRoom | PublishedPlace) -> bytes:
    return _encoder.encode(record)


def decode_room(data: bytes) -> PublishedRoom:
    return _room_decoder.decode(data)


def decode_place(data: bytes) -> PublishedPlace:
    return _place_decoder.decode(data)


def view_of(queue_id: str, place: PublishedPlace, room: PublishedRoom, now_ms: int) -> PlaceView:
    """The poll's answer, as the engine's `describe_place` gives it for the same state."""
    stock = room.stock or Stock.AVAILABLE
    state = shown_state(place.state, stock)
    access_token = place.access_token
    if state is PlaceState.ADMITTED:
        assert place.access_expires_at_ms is not None, "an admitted place carries its expiry"
        if now_ms >= place.access_expires_at_ms:
            state = PlaceState.EXPIRED
            access_token = None
    position: int | None = None
    eta_s: int | None = None
    if state is PlaceState.WAITING:
        position = position_at_slot(
            slot=place.slot,
            head_slot=room.head_slot,
            presale_count=room.presale_count,
            pre_queue_ahead=0 if room.is_open else room.pre_queue,
        )
        assert position >= 0, "the head passes a place and rewrites it in one transaction"
        eta_s = position // room.admit_per_second + 1
    return PlaceView(
        queue_id=queue_id,
        state=state,
        position=position,
        eta_s=eta_s,
        access_token=access_token if state is PlaceState.ADMITTED else None,
        inventory=stock,
    )


async def queue_position(
    client: redis.Redis, event_id: str, queue_id: str, now_ms: int, *, fan_id: str
) -> PlaceView | Rejected:
    """Answer `GET /v1/events/{event_id}/queue/{queue_id}` from Redis alone: one MULTI of two
    reads, then, for a place of this fan still queued, one SADD that records the poll for the actor.

    The room record and every place are written in one MULTI, so with the room record present a
    missing place is NOT_FOUND; without it (never published, or lost) the answer is UNAVAILABLE.
    """
    async with client.pipeline(transaction=True) as pipeline:
        pipeline.hget(places_key(event_id), queue_id)
        pipeline.get(room_key(event_id))
        place_data, room_data = await pipeline.execute()
    if room_data is None:
        return Rejected(
            reason=Reason.UNAVAILABLE, message="the waiting room is not published yet; retry"
        )
    if place_data is None:
        return Rejected(reason=Reason.NOT_FOUND, message="no such place in this queue")
    place = decode_place(place_data)
    if not hmac.compare_digest(place.fan_digest, fan_digest(fan_id)):
        return Rejected(reason=Reason.NOT_FOUND, message="no such place in this queue")
    view = view_of(queue_id, place, decode_room(room_data), now_ms)
    if view.state in (PlaceState.PRE_QUEUE, PlaceState.WAITING):
        await client.sadd(polls_key(event_id), place.sequence)
    return view


async def published_room(client: redis.Redis, event_id: str) -> PublishedRoom | None:
    """The room record the actor last published; None before its first publish."""
    data = await client.get(room_key(event_id))
    if data is None:
        return None
    assert isinstance(data, bytes), "the client answers bytes: it decodes no response"
    return decode_room(data)
