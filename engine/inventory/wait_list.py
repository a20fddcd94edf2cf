"""The wait list of one event: fans' entries in join order, each waiting for stock to come back,
offered a hold of it, or ended (converted, expired, left).

An entry is a frozen value, replaced on each move of its status, and the same value is the row
persistence stores and `Inventory.rebuild` reads back. Only the moves of `WAIT_LIST_TRANSITIONS`
are made; a new status gets its row there and its case in the engine's offer rule.
"""

import enum
import hashlib
import string

import msgspec

from engine.ids import FanId, HoldId, TicketTypeId, WaitListEntryId


class WaitListStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CONVERTED = "converted"
    EXPIRED = "expired"
    LEFT = "left"


WAIT_LIST_TRANSITIONS: dict[WaitListStatus, frozenset[WaitListStatus]] = {
    WaitListStatus.WAITING: frozenset({WaitListStatus.OFFERED, WaitListStatus.LEFT}),
    WaitListStatus.OFFERED: frozenset(
        {WaitListStatus.CONVERTED, WaitListStatus.EXPIRED, WaitListStatus.LEFT}
    ),
    WaitListStatus.CONVERTED: frozenset(),
    WaitListStatus.EXPIRED: frozenset(),
    WaitListStatus.LEFT: frozenset(),
}
assert set(WAIT_LIST_TRANSITIONS) == set(WaitListStatus), "every status has its moves"


class WaitListEntry(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One fan's place on the list; `sequence` is the join order, `email` where the offer goes
    (None: the fan gave no address, and is offered without an email). `ticket_type_id` None takes
    the first type, in configuration order, that has enough."""

    entry_id: WaitListEntryId
    fan_id: FanId
    email: str | None
    quantity: int
    ticket_type_id: TicketTypeId | None
    sequence: int
    status: WaitListStatus = WaitListStatus.WAITING
    hold_id: HoldId | None = None
    offer_expires_at_ms: int | None = None


class WaitList:
    """Every entry of the event, with the indexes the offer rule reads: the waiting entries in
    join order, each fan's entry, and the entry of each live offer's hold."""

    def __init__(self) -> None:
        self.entries: dict[WaitListEntryId, WaitListEntry] = {}
        self.waiting: dict[WaitListEntryId, None] = {}
        self.entry_of_fan: dict[FanId, WaitListEntryId] = {}
        self.entry_of_offer_hold: dict[HoldId, WaitListEntryId] = {}
        self.next_sequence = 0

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: WaitListEntry) -> None:
        assert entry.entry_id not in self.entries, entry.entry_id
        assert entry.fan_id not in self.entry_of_fan, entry.fan_id
        assert entry.sequence >= self.next_sequence, entry.sequence
        self.entries[entry.entry_id] = entry
        self.entry_of_fan[entry.fan_id] = entry.entry_id
        self.next_sequence = entry.sequence + 1
        self._index(entry)

    def move(
        self,
        entry_id: WaitListEntryId,
        status: WaitListStatus,
        *,
        hold_id: HoldId | None = None,
        offer_expires_at_ms: int | None = None,
    ) -> WaitListEntry:
        entry = self.entries[entry_id]
        assert status in WAIT_LIST_TRANSITIONS[entry.status], (entry_id, entry.status, status)
        self.waiting.pop(entry_id, None)
        if entry.hold_id is not None:
            self.entry_of_offer_hold.pop(entry.hold_id, None)
        moved = msgspec.structs.replace(
            entry,
            status=status,
            hold_id=entry.hold_id if hold_id is None else hold_id,
            offer_expires_at_ms=(
                entry.offer_expires_at_ms if offer_expires_at_ms is None else offer_expires_at_ms
            ),
        )
        self.entries[entry_id] = moved
        self._index(moved)
        return moved

    def _index(self, entry: WaitListEntry) -> None:
        if entry.status is WaitListStatus.WAITING:
            self.waiting[entry.entry_id] = None
        elif entry.status is WaitListStatus.OFFERED:
            assert entry.hold_id is not None, entry.entry_id
            self.entry_of_offer_hold[entry.hold_id] = entry.entry_id

    def entry_of_fan_id(self, fan_id: FanId) -> WaitListEntry | None:
        entry_id = self.entry_of_fan.get(fan_id)
        return None if entry_id is None else self.entries[entry_id]

    def position(self, entry_id: WaitListEntryId) -> int | None:
        """Waiting entries ahead of this one (0: next); None once it is no longer waiting."""
        if entry_id not in self.waiting:
            return None
        for ahead, waiting_id in enumerate(self.waiting):
            if waiting_id == entry_id:
                return ahead
        raise AssertionError(entry_id)

    def rows(self) -> tuple[WaitListEntry, ...]:
        return tuple(sorted(self.entries.values(), key=lambda entry: entry.sequence))

    def counts(self) -> dict[WaitListStatus, int]:
        counts = dict.fromkeys(WaitListStatus, 0)
        for entry in self.entries.values():
            counts[entry.status] += 1
        return counts

    def assert_consistent(self, live_hold_fans: dict[HoldId, FanId]) -> None:
        """Recount the indexes from the entries; each live offer is a live hold of its fan."""
        entries = self.rows()
        assert [entry.entry_id for entry in entries] == list(self.entries)
        assert list(self.waiting) == [
            entry.entry_id for entry in entries if entry.status is WaitListStatus.WAITING
        ]
        assert self.entry_of_fan == {entry.fan_id: entry.entry_id for entry in entries}
        offers = {
            entry.hold_id: entry.entry_id
            for entry in entries
            if entry.status is WaitListStatus.OFFERED and entry.hold_id is not None
        }
        assert self.entry_of_offer_hold == offers
        for hold_id, entry_id in offers.items():
            assert live_hold_fans.get(hold_id) == self.entries[entry_id].fan_id, entry_id
        sequences = [entry.sequence for entry in entries]
        assert len(set(sequences)) == len(sequences)
        assert not sequences or self.next_sequence > sequences[-1]


_UUID_HEX_DIGITS = 32
_EVENT_BITS_MASK = ((1 << 48) - 1) << 80 | 0xF << 76 | 0b11 << 62
_VERSION_8_AND_VARIANT = 8 << 76 | 0b10 << 62


def offer_hold_id(entry_id: WaitListEntryId) -> HoldId:
    """The id of the hold an entry is offered: derived from the entry's id, since an offer is
    decided inside other commands (an expiry, a refund) that mint no id for it. An entry is
    offered at most once, so the id is unique; it keeps the entry id's event number and version
    bits (the shell's located ids), so the hold leads to its event as a fan's own hold does."""
    digest = int.from_bytes(hashlib.blake2b(b"offer:" + entry_id.encode()).digest()[:16], "big")
    digits = entry_id.replace("-", "")
    kept = _VERSION_8_AND_VARIANT
    if len(digits) == _UUID_HEX_DIGITS and all(digit in string.hexdigits for digit in digits):
        kept = int(digits, 16) & _EVENT_BITS_MASK
    value = f"{kept | (digest & ~_EVENT_BITS_MASK & ((1 << 128) - 1)):032x}"
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
