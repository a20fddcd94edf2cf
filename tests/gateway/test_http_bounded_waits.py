"""Every wait a fan sees is bounded, over real HTTP: a checkout while Stripe is paused, a hold whose
InventoryActor cannot be scheduled and a queue join whose WaitingRoomActor cannot be are answered
503 UNAVAILABLE with Retry-After within the request's budget (never minutes), and the checkout's
retry with the same Idempotency-Key runs at once once Stripe is back and charges one PaymentIntent.

The bounds are generous (the budget plus a margin): they say the answer comes, not how fast. Each
test prints the answer times it measured."""

import asyncio
import contextlib
import logging
import os
import signal
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
import ray
import stripe

from actors.names import NAMESPACE, inventory_actor_name, waiting_room_actor_name
from actors.placement import per_event
from actors.remote import RemoteInventoryActor, RemoteWaitingRoomActor
from engine import limits
from tests.gateway.http_journeys import CreatedEvent, Fan, create_event, error_code, general_items
from tests.gateway.stack import Stack

ATTEMPTS = 3
# What a loaded machine may add to the budget; a bound, never a benchmark.
MARGIN_S = 5.0
CHANGE_BUDGET_S = limits.REQUEST_BUDGET_MS / 1_000
# Long enough for a checkout to have claimed its key and be waiting on Stripe.
CLAIMED_AFTER_S = 1.0
STRIPE_BACK_TIMEOUT_S = 30.0
NAME_FREED_TIMEOUT_S = 30.0
POLL_S = 0.1
# A resource no node of the test cluster has: an actor that asks for it is never scheduled.
NOWHERE = "onsale_test_no_such_node"
ROOM = {"enabled": True, "admit_per_second": 50, "max_active_shoppers": 100}


class PausedProcess:
    """A child process stopped with SIGSTOP while the block runs, and always resumed after."""

    def __init__(self, process_id: int) -> None:
        self._process_id = process_id

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        os.kill(self._process_id, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self._process_id, signal.SIGCONT)


@pytest.fixture
def localstripe(stack: Stack) -> PausedProcess:
    """The session's localstripe, the child process serving the stack's Stripe API."""
    port = str(urlsplit(stack.outside.stripe_api_base).port)
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            command = process.cmdline()
            if "embedded.stripe_server" in command and port in command:
                return PausedProcess(process.pid)
    raise AssertionError(f"no localstripe child serves port {port}")


def summary(what: str, seconds: list[float]) -> str:
    return (
        f"{what}: p50 {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s "
        f"over {len(seconds)} attempts (budget {CHANGE_BUDGET_S:.0f} s)"
    )


def assert_unavailable_in_time(answer: httpx.Response, elapsed_s: float) -> None:
    assert answer.status_code == 503, answer.text
    assert error_code(answer) == "UNAVAILABLE"
    assert int(answer.headers["retry-after"]) > 0
    assert elapsed_s <= CHANGE_BUDGET_S + MARGIN_S, elapsed_s


async def timed_post(
    client: httpx.AsyncClient, path: str, **options: Any
) -> tuple[httpx.Response, float]:
    started_s = time.monotonic()
    answer = await client.post(path, **options)
    return answer, time.monotonic() - started_s


def payment_intents(stack: Stack) -> Any:
    client = stripe.StripeClient(
        stack.parts.stripe_api_key,
        base_addresses={"api": stack.parts.stripe_api_base},
        http_client=stripe.HTTPXClient(),
    )
    return client.v1.payment_intents


async def stripe_answers(stack: Stack) -> None:
    intents = payment_intents(stack)
    deadline_s = time.monotonic() + STRIPE_BACK_TIMEOUT_S
    while True:
        try:
            await intents.list_async(params={"limit": 1})
            return
        except Exception:
            assert time.monotonic() < deadline_s, "localstripe did not answer again"
            await asyncio.sleep(POLL_S)


async def payment_intents_of(stack: Stack, order_ids: set[str]) -> dict[str, list[str]]:
    """The PaymentIntents at Stripe of each of `order_ids`, by the order in their metadata."""
    found: dict[str, list[str]] = {order_id: [] for order_id in order_ids}
    page = await payment_intents(stack).list_async(params={"limit": 100})
    async for intent in page.auto_paging_iter():
        order_id = (intent.to_dict().get("metadata") or {}).get("order_id")
        if order_id in found:
            found[order_id].append(intent.id)
    return found


async def checkout_while_stripe_is_paused(
    fan: Fan, hold_id: str, key: str
) -> tuple[httpx.Response, float, httpx.Response]:
    """The checkout's answer and how long it took, and the answer to the same request sent again
    while the first still runs."""
    async with fan.stack.client(fan.token, **{"Idempotency-Key": key}) as client:
        path = f"/v1/holds/{hold_id}/checkout"
        first = asyncio.create_task(timed_post(client, path))
        await asyncio.sleep(CLAIMED_AFTER_S)
        while_running = await client.post(path)
        answer, elapsed_s = await first
    return answer, elapsed_s, while_running


async def test_checkout_answers_503_in_time_and_its_retry_runs_when_stripe_was_paused(
    stack: Stack, localstripe: PausedProcess, caplog: pytest.LogCaptureFixture
) -> None:
    event = await create_event(stack)
    fans = [Fan(stack, event) for _ in range(ATTEMPTS)]
    holds = [await fan.hold(1) for fan in fans]
    keys = [f"checkout-{uuid.uuid4()}" for _ in fans]

    with caplog.at_level(logging.WARNING, logger="onsale.access"), localstripe.paused():
        attempts = await asyncio.gather(
            *(
                checkout_while_stripe_is_paused(fan, hold_id, key)
                for fan, hold_id, key in zip(fans, holds, keys, strict=True)
            )
        )
    await stripe_answers(stack)
    retries = []
    for fan, hold_id, key in zip(fans, holds, keys, strict=True):
        async with stack.client(fan.token, **{"Idempotency-Key": key}) as client:
            retries.append(await client.post(f"/v1/holds/{hold_id}/checkout"))

    print(summary("checkout with Stripe paused, 503", [elapsed for _, elapsed, _ in attempts]))
    for answer, elapsed_s, while_running in attempts:
        assert_unavailable_in_time(answer, elapsed_s)
        assert while_running.status_code == 409, while_running.text
        assert while_running.json()["error"]["details"] == {"reason": "in_flight"}
    logged_503s = [record for record in caplog.records if getattr(record, "status", 0) == 503]
    assert len(logged_503s) >= ATTEMPTS
    assert [retry.status_code for retry in retries] == [201] * ATTEMPTS, [r.text for r in retries]
    orders = {retry.json()["order_id"]: retry.json() for retry in retries}
    charged = await payment_intents_of(stack, set(orders))
    assert charged == {
        order_id: [checkout["payment"]["payment_intent_id"]]
        for order_id, checkout in orders.items()
    }


@contextlib.contextmanager
def unschedulable(name: str, actor_class: Any, **arguments: object) -> Iterator[None]:
    """The actor `name` held by an instance that waits for a node that does not exist: calls to
    it are never answered. Any instance running under the name is stopped first."""
    with contextlib.suppress(ValueError):
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
    options = per_event(name) | {"resources": {NOWHERE: 1}}
    deadline_s = time.monotonic() + NAME_FREED_TIMEOUT_S
    while True:
        try:
            actor_class.options(**options).remote(**arguments)
            break
        except ValueError:
            # The stopped instance still holds the name for a moment.
            assert time.monotonic() < deadline_s, f"{name} stayed taken"
            time.sleep(POLL_S)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)


async def test_hold_answers_503_in_time_when_its_inventory_actor_cannot_be_scheduled(
    stack: Stack,
) -> None:
    events = [await create_event(stack) for _ in range(ATTEMPTS)]

    async def hold(event: CreatedEvent) -> tuple[httpx.Response, float]:
        fan = Fan(stack, event)
        async with stack.client(fan.token, **{"Idempotency-Key": str(uuid.uuid4())}) as client:
            return await timed_post(
                client, f"/v1/events/{event.event_id}/holds", json=general_items(event, 1)
            )

    with contextlib.ExitStack() as held:
        for event in events:
            held.enter_context(
                unschedulable(
                    inventory_actor_name(event.event_id),
                    RemoteInventoryActor,
                    event_id=event.event_id,
                    database_url=stack.parts.database_service_url,
                )
            )
        answers = await asyncio.gather(*(hold(event) for event in events))

    print(summary("hold with its InventoryActor unschedulable, 503", [e for _, e in answers]))
    for answer, elapsed_s in answers:
        assert_unavailable_in_time(answer, elapsed_s)


async def test_queue_join_answers_503_in_time_when_its_waiting_room_cannot_be_scheduled(
    stack: Stack,
) -> None:
    events = [await create_event(stack, waiting_room=ROOM) for _ in range(ATTEMPTS)]

    async def join(event: CreatedEvent) -> tuple[httpx.Response, float]:
        async with Fan(stack, event).client() as client:
            return await timed_post(client, f"/v1/events/{event.event_id}/queue")

    with contextlib.ExitStack() as held:
        for event in events:
            held.enter_context(
                unschedulable(
                    waiting_room_actor_name(event.event_id),
                    RemoteWaitingRoomActor,
                    event_id=event.event_id,
                    database_url=stack.parts.database_service_url,
                    redis_url=stack.parts.redis_url,
                    access_secret=stack.parts.access_secret.encode(),
                )
            )
        answers = await asyncio.gather(*(join(event) for event in events))

    print(
        summary("queue join with its WaitingRoomActor unschedulable, 503", [e for _, e in answers])
    )
    for answer, elapsed_s in answers:
        assert_unavailable_in_time(answer, elapsed_s)
