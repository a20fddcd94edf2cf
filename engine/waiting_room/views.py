"""What the API shows of a waiting room: a fan's place (with its access token once admitted) and
the room's counts. Reads only."""

import hashlib

import msgspec

from engine.access_tokens import issue_access_token
from engine.ids import FanId
from engine.rejections import Reason, Rejected
from engine.stock import Stock
from engine.waiting_room.state import (
    STATES_BY_CODE,
    WAITING_CODE,
    PlaceState,
    WaitingRoom,
)

QUEUED_STATES = frozenset({PlaceState.PRE_QUEUE, PlaceState.WAITING})


class PlaceView(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a join or a poll, as API.md's waiting room section shapes it; `inventory`
    is what the event has left (`held`: nothing to buy now, but holds may come back)."""

    queue_id: str
    state: PlaceState
    position: int | None
    eta_s: int | None
    access_token: str | None
    inventory: Stock


def shown_state(state: PlaceState, stock: Stock) -> PlaceState:
    """A place still queued shows `sold_out` once the event has nothing available or held."""
    if stock is Stock.SOLD_OUT and state in QUEUED_STATES:
        return PlaceState.SOLD_OUT
    return state


class QueueCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Places before the opening, queued, shopping; `sold_out` counts the queued places shown
    `sold_out` (then neither `pre_queue` nor `waiting` counts them). `presale_waiting` is the part
    of `waiting` still in the presale line."""

    pre_queue: int
    waiting: int
    admitted: int
    admit_per_second: int
    sold_out: int
    presale_waiting: int = 0

    @property
    def present(self) -> int:
        """Every fan still in the room: queued (sold out or not) or shopping."""
        return self.pre_queue + self.waiting + self.sold_out + self.admitted


def queue_id_for(event_id: str, sequence: int) -> str:
    """A UUID (version 8, derived) naming a place: the same event and sequence, the same id."""
    digest = bytearray(hashlib.sha256(f"{event_id}/{sequence}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def position_of(room: WaitingRoom, sequence: int) -> int | None:
    """Fans ahead of this place (0 = next), or None when it is not waiting (or sold out)."""
    if room.states[sequence] != WAITING_CODE or room.stock is Stock.SOLD_OUT:
        return None
    return position_at_slot(
        slot=room.slot_of_sequence[sequence],
        head_slot=room.head_slot,
        presale_count=room.presale_count,
        pre_queue_ahead=0 if room.is_open else room.pre_queue_count,
    )


def position_at_slot(*, slot: int, head_slot: int, presale_count: int, pre_queue_ahead: int) -> int:
    """A waiting place's position: the places from the head to its slot, and, for a place that
    joined after `opens_at` but before the draw, the pre-queue the draw will put ahead of it."""
    return slot - head_slot + (pre_queue_ahead if slot >= presale_count else 0)


def eta_s_for(room: WaitingRoom, position: int | None) -> int | None:
    """Seconds until admission if the rate holds: it falls as the head moves and never rises."""
    if position is None:
        return None
    return position // room.settings.admit_per_second + 1


def describe_place(
    room: WaitingRoom, fan_id: FanId, now_ms: int, *, access_secret: bytes
) -> PlaceView | Rejected:
    """The fan's place as the API shows it; an access whose TTL ran out shows as expired."""
    sequence = room.fan_index.find(fan_id)
    if sequence < 0:
        return Rejected(reason=Reason.NOT_FOUND, message="this fan has no place in the queue")
    state = shown_state(STATES_BY_CODE[room.states[sequence]], room.stock)
    access_token: str | None = None
    if state is PlaceState.ADMITTED:
        expires_at_ms = room.access_expires_at_ms_by_slot[room.slot_of_sequence[sequence]]
        if now_ms >= expires_at_ms:
            state = PlaceState.EXPIRED
        else:
            access_token = issue_access_token(
                secret=access_secret,
                event_id=room.settings.event_id,
                fan_id=fan_id,
                expires_at_ms=expires_at_ms,
            )
    position = position_of(room, sequence)
    return PlaceView(
        queue_id=queue_id_for(room.settings.event_id, sequence),
        state=state,
        position=position,
        eta_s=eta_s_for(room, position),
        access_token=access_token,
        inventory=room.stock,
    )


def count_places(room: WaitingRoom) -> QueueCounts:
    """The stats endpoint's `queue` figures."""
    pre_queue = 0 if room.is_open else room.pre_queue_count
    waiting = room.slotted_count - room.head_slot
    presale_waiting = max(0, room.presale_count - room.head_slot)
    sold_out = 0
    if room.stock is Stock.SOLD_OUT:
        pre_queue, waiting, presale_waiting, sold_out = 0, 0, 0, pre_queue + waiting
    return QueueCounts(
        pre_queue=pre_queue,
        waiting=waiting,
        admitted=room.active_shopper_count,
        admit_per_second=room.settings.admit_per_second,
        sold_out=sold_out,
        presale_waiting=presale_waiting,
    )
