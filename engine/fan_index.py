"""Fan ids interned to dense sequence numbers (0, 1, 2 ... in join order), compactly.

A dict of a million str fan ids costs about 150 bytes a fan on its own, so the ids live as UTF-8 in
one bytearray and an open-addressing table of int32 maps a 64-bit BLAKE2b key of the id to its
sequence. Equal keys are told apart by comparing the stored bytes, so a key collision never merges
two fans. Nothing is ever removed: a fan keeps its sequence for the life of the waiting room.
"""

import array
import hashlib
import sys

_INITIAL_TABLE_SLOTS = 1 << 10
_EMPTY = 0


def fan_key(encoded_fan_id: bytes) -> int:
    """The 64-bit key of a fan id: stable across processes, unlike `hash(str)`."""
    return int.from_bytes(hashlib.blake2b(encoded_fan_id, digest_size=8).digest(), "little")


class FanIndex:
    """Sequence numbers of fan ids; the table holds sequence + 1, with 0 for an empty slot."""

    __slots__ = ("_fan_id_bytes", "_fan_id_ends", "_keys", "_table", "_table_mask")

    def __init__(self) -> None:
        self._keys = array.array("Q")
        self._fan_id_bytes = bytearray()
        self._fan_id_ends = array.array("Q")
        self._table = array.array("i", bytes(4 * _INITIAL_TABLE_SLOTS))
        self._table_mask = _INITIAL_TABLE_SLOTS - 1

    def __len__(self) -> int:
        return len(self._keys)

    def _stored_bytes(self, sequence: int) -> bytes:
        start = self._fan_id_ends[sequence - 1] if sequence else 0
        return bytes(self._fan_id_bytes[start : self._fan_id_ends[sequence]])

    def fan_id(self, sequence: int) -> str:
        return self._stored_bytes(sequence).decode()

    def find(self, fan_id: str) -> int:
        """The fan's sequence, or -1 when the fan never joined."""
        encoded = fan_id.encode()
        key = fan_key(encoded)
        table = self._table
        keys = self._keys
        mask = self._table_mask
        slot = key & mask
        while True:
            entry = table[slot]
            if entry == _EMPTY:
                return -1
            if keys[entry - 1] == key and self._stored_bytes(entry - 1) == encoded:
                return entry - 1
            slot = (slot + 1) & mask

    def add(self, fan_id: str) -> int:
        """Interns a fan that `find` did not find; returns its new sequence."""
        encoded = fan_id.encode()
        key = fan_key(encoded)
        sequence = len(self._keys)
        if 2 * (sequence + 1) > len(self._table):
            self._grow()
        self._keys.append(key)
        self._fan_id_bytes += encoded
        self._fan_id_ends.append(len(self._fan_id_bytes))
        self._place(key, sequence + 1)
        return sequence

    def _place(self, key: int, entry: int) -> None:
        table = self._table
        mask = self._table_mask
        slot = key & mask
        while table[slot] != _EMPTY:
            slot = (slot + 1) & mask
        table[slot] = entry

    def _grow(self) -> None:
        slot_count = 2 * len(self._table)
        self._table = array.array("i", bytes(4 * slot_count))
        self._table_mask = slot_count - 1
        for sequence, key in enumerate(self._keys):
            self._place(key, sequence + 1)

    def memory_bytes(self) -> int:
        return sum(
            sys.getsizeof(part)
            for part in (self._keys, self._fan_id_bytes, self._fan_id_ends, self._table)
        )
