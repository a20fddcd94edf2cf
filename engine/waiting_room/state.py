"""The in-memory state of one waiting room, in arrays indexed by join sequence or by queue slot,
and the table of the states a place moves through.

A new place state means a new row in PLACE_TRANSITIONS, which the tests walk. `sold_out` is shown,
never stored: a place still queued shows it while the event has nothing left (`WaitingRoom.stock`),
so the sell-out reaches every place at once without a write per place. No move leads to it, nor
to `cancelled`, which every place of a cancelled event shows (the gateway reads it off the event).
"""

import array
import enum
import sys

from engine.fan_index import FanIndex
from engine.stock import Stock
from engine.waiting_room.configuration import WaitingRoomSettings

NEVER_ADMITTED_MS = -1
# The slot of a place still in the pre-queue: it gets one at the draw, behind the presale line.
NO_SLOT = -1


class PlaceState(enum.StrEnum):
    PRE_QUEUE = "pre_queue"
    WAITING = "waiting"
    ADMITTED = "admitted"
    EXPIRED = "expired"
    SOLD_OUT = "sold_out"
    CANCELLED = "cancelled"


PLACE_TRANSITIONS: dict[PlaceState, frozenset[PlaceState]] = {
    PlaceState.PRE_QUEUE: frozenset({PlaceState.WAITING}),
    PlaceState.WAITING: frozenset({PlaceState.ADMITTED, PlaceState.EXPIRED}),
    PlaceState.ADMITTED: frozenset({PlaceState.EXPIRED}),
    PlaceState.EXPIRED: frozenset(),
    PlaceState.SOLD_OUT: frozenset(),
    PlaceState.CANCELLED: frozenset(),
}
assert set(PLACE_TRANSITIONS) == set(PlaceState), "every place state needs its transitions"
SHOWN_ONLY = (PlaceState.SOLD_OUT, PlaceState.CANCELLED)
assert all(state not in moves for moves in PLACE_TRANSITIONS.values() for state in SHOWN_ONLY), (
    "shown only"
)

STATE_CODES: dict[PlaceState, int] = {state: code for code, state in enumerate(PlaceState)}
STATES_BY_CODE: tuple[PlaceState, ...] = tuple(PlaceState)
assert len(STATE_CODES) == len(PlaceState)
PRE_QUEUE_CODE = STATE_CODES[PlaceState.PRE_QUEUE]
WAITING_CODE = STATE_CODES[PlaceState.WAITING]
ADMITTED_CODE = STATE_CODES[PlaceState.ADMITTED]
EXPIRED_CODE = STATE_CODES[PlaceState.EXPIRED]


class WaitingRoom:
    """The in-memory state, in arrays indexed by join sequence or by queue slot.

    Slots before `head_slot` are decided (admitted or expired); every place from `head_slot` on is
    still waiting. The first `presale_count` slots are the presale line, in the order its fans
    joined it; a place in the pre-queue has NO_SLOT until the draw gives it one behind them.
    `expiry_cursor` is `head_slot` or the slot of the oldest admitted fan; `stock` is what the
    event's inventory last said it has left. Only engine.waiting_room.apply and
    `rebuild_waiting_room` change any of it.
    """

    __slots__ = (
        "access_expires_at_ms_by_slot",
        "active_shopper_count",
        "admission_credit_milli",
        "admitted_at_ms_by_slot",
        "credited_at_ms",
        "draw_seed",
        "expiry_cursor",
        "fan_index",
        "head_slot",
        "last_seen_ms",
        "opened_at_ms",
        "pre_queue_closed",
        "pre_queue_count",
        "presale_count",
        "sequence_at_slot",
        "settings",
        "slot_of_sequence",
        "states",
        "stock",
    )

    def __init__(self, settings: WaitingRoomSettings) -> None:
        self.settings = settings
        self.fan_index = FanIndex()
        self.states = bytearray()
        self.last_seen_ms = array.array("q")
        self.slot_of_sequence = array.array("i")
        self.sequence_at_slot = array.array("i")
        self.admitted_at_ms_by_slot = array.array("q")
        self.access_expires_at_ms_by_slot = array.array("q")
        self.pre_queue_count = 0
        self.presale_count = 0
        self.pre_queue_closed = False
        self.draw_seed: int | None = None
        self.opened_at_ms: int | None = None
        self.head_slot = 0
        self.expiry_cursor = 0
        self.active_shopper_count = 0
        self.admission_credit_milli = 0
        self.credited_at_ms = 0
        self.stock = Stock.AVAILABLE

    @property
    def fan_count(self) -> int:
        return len(self.states)

    @property
    def is_open(self) -> bool:
        return self.opened_at_ms is not None

    @property
    def is_admitting(self) -> bool:
        """Admission runs once the room opened, or before that for a presale line."""
        return self.opened_at_ms is not None or self.presale_count > 0

    @property
    def slotted_count(self) -> int:
        """Places with a queue slot: all of them once the room opened."""
        return len(self.sequence_at_slot)

    def memory_bytes(self) -> int:
        arrays = (
            self.states,
            self.last_seen_ms,
            self.slot_of_sequence,
            self.sequence_at_slot,
            self.admitted_at_ms_by_slot,
            self.access_expires_at_ms_by_slot,
        )
        return self.fan_index.memory_bytes() + sum(sys.getsizeof(part) for part in arrays)

    def advance_expiry_cursor(self) -> None:
        cursor = self.expiry_cursor
        while (
            cursor < self.head_slot and self.states[self.sequence_at_slot[cursor]] != ADMITTED_CODE
        ):
            cursor += 1
        self.expiry_cursor = cursor
