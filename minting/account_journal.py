"""The local chain's accounts on disk: an append-only journal of account states, one record per
batch of transactions, compacted into a single record on load and whenever it outgrows its limit.

A record is its length, its CRC-32 and a msgpack body. A torn record at the end (a crash while
writing) fails its check and is cut off with anything after it, so a batch is on disk whole or not
at all. Every record is fsynced before the chain answers; compaction writes a new file and
renames it over the old one, so the journal is always one or the other, never half of each.
"""

import os
import pathlib
import struct
import zlib

import msgspec

from engine import limits

HEADER = struct.Struct("<II")


class StoredAccount(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    address: str
    lamports: int
    data: bytes
    owner: str
    executable: bool
    rent_epoch: int


class JournalRecord(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    accounts: list[StoredAccount]
    # The transaction that created each new account, by the account's address.
    creations: dict[str, str]


class ChainState(msgspec.Struct, kw_only=True):
    """Every live account (a zero-lamport one is gone) and every creation known."""

    accounts: dict[str, StoredAccount]
    creations: dict[str, str]

    def apply(self, record: JournalRecord) -> None:
        for account in record.accounts:
            if account.lamports == 0:
                self.accounts.pop(account.address, None)
            else:
                self.accounts[account.address] = account
        self.creations.update(record.creations)


RECORD_ENCODER = msgspec.msgpack.Encoder()
RECORD_DECODER = msgspec.msgpack.Decoder(JournalRecord)


def _framed(record: JournalRecord) -> bytes:
    body = RECORD_ENCODER.encode(record)
    return HEADER.pack(len(body), zlib.crc32(body)) + body


def _sync_directory(directory: pathlib.Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class AccountJournal:
    def __init__(self, directory: pathlib.Path, name: str = "accounts.journal") -> None:
        self._directory = directory
        self._path = directory / name
        self._appended_bytes = 0

    def load(self) -> ChainState:
        """Replay every whole record, then compact them into one."""
        state = ChainState(accounts={}, creations={})
        if self._path.exists():
            content = self._path.read_bytes()
            offset = 0
            while offset + HEADER.size <= len(content):
                length, checksum = HEADER.unpack_from(content, offset)
                body = content[offset + HEADER.size : offset + HEADER.size + length]
                if len(body) < length or zlib.crc32(body) != checksum:
                    break
                state.apply(RECORD_DECODER.decode(body))
                offset += HEADER.size + length
        self.compact(state)
        return state

    def append(self, record: JournalRecord) -> None:
        with self._path.open("ab") as journal:
            framed = _framed(record)
            journal.write(framed)
            journal.flush()
            os.fsync(journal.fileno())
        self._appended_bytes += len(framed)

    def needs_compaction(self) -> bool:
        return self._appended_bytes > limits.LOCAL_CHAIN_JOURNAL_BYTES_MAX

    def compact(self, state: ChainState) -> None:
        """Replace the journal by one record of `state`, atomically."""
        self._directory.mkdir(parents=True, exist_ok=True)
        replacement = self._path.with_suffix(".compacting")
        with replacement.open("wb") as journal:
            journal.write(
                _framed(
                    JournalRecord(
                        accounts=list(state.accounts.values()), creations=dict(state.creations)
                    )
                )
            )
            journal.flush()
            os.fsync(journal.fileno())
        replacement.replace(self._path)
        _sync_directory(self._directory)
        self._appended_bytes = 0
