"""Runs localstripe (a local Stripe API in test mode) with its store in a file of our choosing,
and with two of Stripe's behaviours that localstripe lacks.

localstripe keeps its whole store in one hard-coded /tmp pickle; the embedded runtime needs it
under the data directory so that `onsale up` on the same directory finds its PaymentIntents again.
It also ignores `Idempotency-Key`, which Stripe honours (the same key returns the first response;
another body with it is refused), and charges Stripe's generic decline test cards. Both are added
here, so the embedded default keeps the promises the real API keeps.
"""

import argparse
import asyncio
import collections
import hashlib
import pathlib
import pickle
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError

STORE_SAVE_INTERVAL_S = 0.5
# After a save taking t seconds the next waits at least SAVE_PAUSE_FACTOR times t, so however large
# the store grows, saving it takes at most a tenth of the server's time.
SAVE_PAUSE_FACTOR = 9
IDEMPOTENCY_STORE_PREFIX = "onsale_idempotency:"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
# Stripe's test cards that are declined when charged, whatever the PaymentIntent.
DECLINED_TEST_CARDS = frozenset(
    {
        "4000000000000002",
        "4000000000009995",
        "4000000000009987",
        "4000000000009979",
        "4000000000000069",
        "4000000000000127",
        "4000000000000119",
    }
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def type_of(key: str) -> str:
    """The object type of a store key, `<type>:<id>` (`payment_intent:pi_…`)."""
    return key.partition(":")[0]


class StoreFile:
    """localstripe's store, saved to `path` at most every `STORE_SAVE_INTERVAL_S` (longer once a
    save takes long, see SAVE_PAUSE_FACTOR) and on exit, with its keys indexed by object type.

    localstripe pickles its whole store on every write, which grows with every PaymentIntent; a
    sale of thousands of orders would spend its time pickling. Writes now only mark the store
    changed, and a background task saves it. localstripe also lists objects of one type by
    scanning every object in the store, which it does for each charge it shows (to sum its
    refunds); the index makes that a scan of that type's objects alone.
    """

    def __init__(self, path: pathlib.Path) -> None:
        self._path = path
        self._changed = False
        self._keys_by_type: dict[str, dict[str, None]] = collections.defaultdict(dict)
        self._last_save_s = 0.0

    def install(self, app: web.Application) -> None:
        store_file = self

        def load(store: resources.Store) -> None:
            if store_file._path.exists():
                with store_file._path.open("rb") as file:
                    saved = pickle.load(file)
                dict.clear(store)
                dict.update(store, saved)
                store_file._keys_by_type.clear()
                for key in saved:
                    store_file._keys_by_type[type_of(key)][key] = None

        def mark_changed(store: resources.Store) -> None:
            store_file._changed = True

        def set_item(store: resources.Store, key: str, value: object) -> None:
            dict.__setitem__(store, key, value)
            store_file._keys_by_type[type_of(key)][key] = None
            store_file._changed = True

        def delete_item(store: resources.Store, key: str) -> None:
            dict.__delitem__(store, key)
            store_file._keys_by_type[type_of(key)].pop(key, None)
            store_file._changed = True

        def clear(store: resources.Store) -> None:
            dict.clear(store)
            store_file._keys_by_type.clear()
            store_file._changed = True

        def list_all(
            cls: type[resources.StripeObject],
            url: str,
            limit: int | None = None,
            starting_after: str | None = None,
            **unexpected: object,
        ) -> resources.List:
            if unexpected:
                raise UserError(400, "Unexpected " + ", ".join(unexpected))
            listed = resources.List(url, limit=limit, starting_after=starting_after)
            listed._list = [
                dict.__getitem__(resources.store, key)
                for key in store_file._keys_by_type.get(cls.object, {})
            ]
            return listed

        resources.Store.try_load_from_disk = load
        resources.Store.dump_to_disk = mark_changed
        resources.Store.__setitem__ = set_item
        resources.Store.__delitem__ = delete_item
        resources.Store.clear = clear
        resources.StripeObject._api_list_all = classmethod(list_all)
        app.cleanup_ctx.append(self._saving)

    async def _saving(self, app: web.Application) -> AsyncIterator[None]:
        saver = asyncio.create_task(self._save_periodically())
        yield
        saver.cancel()
        self.save()

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(max(STORE_SAVE_INTERVAL_S, SAVE_PAUSE_FACTOR * self._last_save_s))
            self.save()

    def save(self) -> None:
        if not self._changed:
            return
        self._changed = False
        started = time.perf_counter()
        temporary = self._path.with_suffix(".tmp")
        with temporary.open("wb") as file:
            pickle.dump(dict(resources.store), file, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(self._path)
        self._last_save_s = time.perf_counter() - started


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Replay the first response to a POST with the same Idempotency-Key and body.

    It runs inside the middleware that saves the store, so a kept response is saved with the
    objects it created and survives a restart.
    """
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if request.method != "POST" or key is None:
        return await handler(request)
    store_key = (
        IDEMPOTENCY_STORE_PREFIX
        + hashlib.sha256(f"{request.headers.get('Authorization', '')}\n{key}".encode()).hexdigest()
    )
    fingerprint = hashlib.sha256(f"{request.path}\n".encode() + await request.read()).hexdigest()
    kept = resources.store.get(store_key)
    if kept is not None:
        kept_fingerprint, status, body = kept
        if kept_fingerprint != fingerprint:
            raise UserError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                "were first used with.",
                {"type": "idempotency_error"},
            )
        return web.Response(status=status, body=body, content_type="application/json")
    try:
        response = await handler(request)
    except UserError as error:
        response = error.to_response()
    if response.status < 500 and isinstance(response, web.Response) and response.body is not None:
        resources.store[store_key] = (fingerprint, response.status, response.body)
    return response


def decline_generic_test_cards() -> None:
    charging_is_declined = resources.PaymentMethod._charging_is_declined

    def declined(payment_method: resources.PaymentMethod) -> bool:
        if payment_method.type == "card" and payment_method._card_number in DECLINED_TEST_CARDS:
            return True
        return bool(charging_is_declined(payment_method))

    resources.PaymentMethod._charging_is_declined = declined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=pathlib.Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    arguments = parser.parse_args()
    StoreFile(arguments.store).install(server.app)
    decline_generic_test_cards()
    server.app.middlewares.append(idempotency_middleware)
    resources.store.try_load_from_disk()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((arguments.host, arguments.port))
    web.run_app(server.app, sock=listener, print=None)


if __name__ == "__main__":
    main()
