"""The embedded Stripe's store on disk: a snapshot of every object and a journal of the changes made
since, each change written and fsync'd before the request that made it is answered, so a crash of
the server, or of the whole process tree, loses nothing it acknowledged.

localstripe changes its objects in place (a PaymentIntent's charge, a charge's refunds), not only
through its store, so a request's changes are known by what it touched: each object it stored,
deleted, or looked up while it could change things (any method but GET). A journal record holds
those objects whole, every stored object they reach included, each pickled as "the stored object
of key K with this state", so loading keeps one instance per object, as localstripe expects.
Objects are also indexed by type, so listing one type no longer scans every object.
"""

import asyncio
import collections
import contextvars
import io
import os
import pathlib
import pickle
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError

from engine import limits

SNAPSHOT_FORMAT = "onsale-stripe-snapshot-1"
# A journal record's frame: the payload's length, the snapshot generation it follows, its CRC-32.
RECORD_HEADER = struct.Struct("<IQI")
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# True while a request that may change objects runs: what it looks up is journalled with it.
request_may_change = contextvars.ContextVar("request_may_change", default=False)
index_by_type: dict[str, dict[str, None]] = collections.defaultdict(dict)


def type_of(key: str) -> str:
    """The object type of a store key, `<type>:<id>` (`payment_intent:pi_…`)."""
    return key.partition(":")[0]


def put(key: str, value: object) -> None:
    dict.__setitem__(resources.store, key, value)
    index_by_type[type_of(key)][key] = None


def remove(key: str) -> None:
    dict.pop(resources.store, key, None)
    index_by_type[type_of(key)].pop(key, None)


def stored_object(cls: type[object], key: str) -> object:
    """The store's instance of `key` when loading, made empty if the store has none yet; pickle
    then gives it the recorded state (see `replace_state`)."""
    existing = dict.get(resources.store, key)
    if type(existing) is cls:
        return existing
    instance = cls.__new__(cls)
    put(key, instance)
    return instance


def replace_state(instance: object, state: dict[str, Any]) -> None:
    attributes = vars(instance)
    attributes.clear()
    attributes.update(state)


def key_of(value: object) -> str | None:
    """The key a stored object is kept under; None for anything else (a list, a copy)."""
    if not isinstance(value, resources.StripeObject | resources.Balance) or isinstance(
        value, resources.List
    ):
        return None
    identifier = vars(value).get("id")
    key = f"{value.object}:{identifier}" if identifier else str(value.object)
    return key if dict.get(resources.store, key) is value else None


class StorePickler(pickle.Pickler):
    def reducer_override(self, value: object) -> Any:
        key = key_of(value)
        if key is None:
            return NotImplemented
        return stored_object, (type(value), key), dict(vars(value)), None, None, replace_state


def pickled(value: object) -> bytes:
    buffer = io.BytesIO()
    StorePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def fsync_directory(path: pathlib.Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class JournalledStore:
    """localstripe's store, kept in `snapshot_path` and its journal beside it."""

    def __init__(self, snapshot_path: pathlib.Path) -> None:
        self._snapshot_path = snapshot_path
        self._journal_path = snapshot_path.with_suffix(".journal")
        self._generation = 0
        self._journal: int | None = None
        self._journal_bytes = 0
        self._touched: dict[str, None] = {}
        self._cleared = False
        self._appended = 0
        self._synced = 0
        self._syncing: asyncio.Future[None] | None = None

    def install(self, app: web.Application) -> None:
        """Route localstripe's store through this one; each request is answered once what it
        changed is on disk (`middleware`, which the server adds outside any that change objects)."""
        journal = self

        def set_item(store: resources.Store, key: str, value: object) -> None:
            put(key, value)
            journal._touched[key] = None

        def delete_item(store: resources.Store, key: str) -> None:
            dict.__getitem__(store, key)
            remove(key)
            journal._touched[key] = None

        def clear(store: resources.Store) -> None:
            dict.clear(store)
            index_by_type.clear()
            journal._touched.clear()
            journal._cleared = True

        def get(store: resources.Store, key: str, default: object = None) -> object:
            value = dict.get(store, key, default)
            if request_may_change.get() and dict.__contains__(store, key):
                journal._touched[key] = None
            return value

        def list_all(
            cls: type[resources.StripeObject],
            /,
            url: str,
            limit: int | None = None,
            starting_after: str | None = None,
            **unexpected: object,
        ) -> resources.List:
            if unexpected:
                raise UserError(400, "Unexpected " + ", ".join(unexpected))
            listed = resources.List(url, limit=limit, starting_after=starting_after)
            keys = index_by_type.get(str(cls.object), {})
            if request_may_change.get():
                journal._touched.update(keys)
            listed._list = [dict.__getitem__(resources.store, key) for key in keys]
            return listed

        resources.Store.try_load_from_disk = lambda store: journal.load()
        # localstripe saves the whole store after every write; the journal has done it already
        resources.Store.dump_to_disk = lambda store: None
        resources.Store.__setitem__ = set_item
        resources.Store.__delitem__ = delete_item
        resources.Store.clear = clear
        resources.Store.get = get
        resources.StripeObject._api_list_all = classmethod(list_all)
        app.cleanup_ctx.append(self._closing)

    def load(self) -> None:
        """The snapshot, then every journal record written after it; a torn last record (never
        acknowledged: it was not yet fsync'd) is cut off."""
        dict.clear(resources.store)
        index_by_type.clear()
        if self._snapshot_path.exists():
            saved = pickle.loads(self._snapshot_path.read_bytes())
            if isinstance(saved, tuple) and saved[0] == SNAPSHOT_FORMAT:
                _, self._generation, entries = saved
            else:  # the whole-store pickle of earlier versions, with no journal
                entries = list(saved.items())
            for key, value in entries:
                put(key, value)
        self._journal = os.open(self._journal_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        good_bytes = self._replay()
        os.ftruncate(self._journal, good_bytes)
        self._journal_bytes = good_bytes

    def _replay(self) -> int:
        assert self._journal is not None
        content = self._journal_path.read_bytes()
        offset = 0
        while offset + RECORD_HEADER.size <= len(content):
            length, generation, checksum = RECORD_HEADER.unpack_from(content, offset)
            payload = content[offset + RECORD_HEADER.size : offset + RECORD_HEADER.size + length]
            if len(payload) < length or zlib.crc32(payload) != checksum:
                break
            offset += RECORD_HEADER.size + length
            if generation >= self._generation:
                self._apply(payload)
        return offset

    @staticmethod
    def _apply(payload: bytes) -> None:
        cleared, entries = pickle.loads(payload)
        if cleared:
            dict.clear(resources.store)
            index_by_type.clear()
        for key, present, value in entries:
            if present:
                put(key, value)
            else:
                remove(key)

    async def commit(self) -> None:
        """Journal what was touched since the last record, and return once every record so far
        is on disk: one of another request may hold what this one changed or read."""
        if self._touched or self._cleared:
            self._append()
        appended = self._appended
        while self._synced < appended:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync())
            await asyncio.shield(self._syncing)
        if self._journal_bytes > limits.STRIPE_JOURNAL_BYTES_MAX and self._syncing is None:
            self.compact()

    def _append(self) -> None:
        assert self._journal is not None
        entries = []
        for key in self._touched:
            value = dict.get(resources.store, key)
            entries.append((key, value is not None, value))
        payload = pickled((self._cleared, entries))
        self._touched = {}
        self._cleared = False
        os.write(
            self._journal,
            RECORD_HEADER.pack(len(payload), self._generation, zlib.crc32(payload)) + payload,
        )
        self._journal_bytes += RECORD_HEADER.size + len(payload)
        self._appended += 1

    async def _sync(self) -> None:
        target = self._appended
        try:
            assert self._journal is not None
            await asyncio.to_thread(os.fsync, self._journal)
            self._synced = max(self._synced, target)
        finally:
            self._syncing = None

    def compact(self) -> None:
        """Write the whole store as the next generation's snapshot, then empty the journal: its
        records, of the generation before, are skipped at load should the emptying not happen."""
        assert self._journal is not None
        generation = self._generation + 1
        temporary = self._snapshot_path.with_suffix(".tmp")
        with temporary.open("wb") as file:
            file.write(pickled((SNAPSHOT_FORMAT, generation, list(resources.store.items()))))
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self._snapshot_path)
        fsync_directory(self._snapshot_path.parent)
        self._generation = generation
        os.ftruncate(self._journal, 0)
        os.fsync(self._journal)
        self._journal_bytes = 0
        self._synced = self._appended

    async def _closing(self, app: web.Application) -> AsyncIterator[None]:
        yield
        await self.commit()
        self.compact()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Answer only once what the request changed is on disk, whether it succeeded or not."""
        may_change = request_may_change.set(request.method not in READ_ONLY_METHODS)
        try:
            return await handler(request)
        finally:
            request_may_change.reset(may_change)
            await self.commit()
