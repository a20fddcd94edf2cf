"""Runs localstripe (a local Stripe API in test mode) with its store in files of our choosing, made
durable before each answer, and with two of Stripe's behaviours that localstripe lacks.

localstripe keeps its whole store in one hard-coded /tmp pickle, saved after each write; the
embedded runtime needs it under the data directory, journalled so that an answer is never lost to
a crash (embedded/stripe_store.py), and `onsale up` on the same directory finds its PaymentIntents
again. One server at a time uses a store: a second one is refused. localstripe also ignores
`Idempotency-Key`, which Stripe honours (the same key returns the first response; another body
with it is refused), and charges Stripe's generic decline test cards. Both are added here, so the
embedded default keeps the promises the real API keeps, as are `charge.refunded` events
(embedded/stripe_refund_events.py) and test-mode disputes (embedded/stripe_disputes.py).
localstripe keeps its webhook endpoints in memory only: `onsale up` registers ours after every
start of its child, and a server run on its own (the compose file's) is given its endpoint as it
starts, with `--webhook-url`.
"""

import argparse
import fcntl
import hashlib
import os
import pathlib
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from aiohttp import web
from localstripe import resources, server, webhooks
from localstripe.errors import UserError

from embedded.stripe_disputes import install_disputes
from embedded.stripe_refund_events import send_charge_refunded_events
from embedded.stripe_store import JournalledStore

IDEMPOTENCY_STORE_PREFIX = "onsale_idempotency:"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
STORE_IN_USE_EXIT_CODE = 3
WEBHOOK_SECRET_VARIABLE = "STRIPE_WEBHOOK_SECRET"
STARTUP_WEBHOOK_ENDPOINT_ID = "from_start"
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


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Replay the first response to a POST with the same Idempotency-Key and body.

    It runs inside the journal's middleware, so a kept response is on disk with the objects it
    created before it is first sent, and survives a crash.
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


def lock_store(store_path: pathlib.Path) -> TextIO:
    """The store's lock file, held while it stays open (the kernel lets go when this process
    ends, however it ends); exit at once when another server holds it."""
    lock = store_path.with_suffix(".lock").open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another Stripe server uses the store {store_path}", file=sys.stderr)
        sys.exit(STORE_IN_USE_EXIT_CODE)
    return lock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=pathlib.Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--webhook-url",
        help=f"send every event to this URL, signed with ${WEBHOOK_SECRET_VARIABLE}",
    )
    arguments = parser.parse_args()
    if arguments.webhook_url:
        secret = os.environ.get(WEBHOOK_SECRET_VARIABLE, "")
        if not secret:
            parser.error(f"--webhook-url needs {WEBHOOK_SECRET_VARIABLE}: its events are signed")
        webhooks.register_webhook(STARTUP_WEBHOOK_ENDPOINT_ID, arguments.webhook_url, secret, None)
    lock = lock_store(arguments.store)
    store = JournalledStore(arguments.store)
    store.install(server.app)
    decline_generic_test_cards()
    send_charge_refunded_events()
    install_disputes(server.app)
    server.app.middlewares.append(store.middleware)
    server.app.middlewares.append(idempotency_middleware)
    resources.store.try_load_from_disk()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((arguments.host, arguments.port))
    web.run_app(server.app, sock=listener, print=None)
    lock.close()


if __name__ == "__main__":
    main()
