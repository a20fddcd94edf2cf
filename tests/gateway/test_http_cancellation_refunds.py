"""A cancelled event's refunds over HTTP, against the session's embedded Stripe: 300 paid orders,
and the payment workers killed with SIGKILL while they refund them. After the workers come back
every order has exactly one refund at Stripe, every ticket is refunded (its code refused at the
door), every fan is emailed once, and the stats count 300 refunded and none pending."""

import asyncio
import collections
import datetime
import email
import os
import signal
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import ray
import stripe

from actors.names import NAMESPACE, payment_worker_name
from engine import limits
from tests.gateway.http_journeys import VISA, CreatedEvent, Fan, inventory_started
from tests.gateway.stack import Stack
from tests.gateway.ticket_journeys import Venue, code_at, code_key_of

pytestmark = pytest.mark.usefixtures("stack")
PAID_ORDERS = 300
SEED_CONCURRENCY = 12
POLL_INTERVAL_S = 0.2
REFUNDS_DONE_TIMEOUT_S = 300.0
# The workers are killed once this many refunds succeeded: some done, most still to do.
KILL_AFTER_REFUNDED = 40
RETRIES_AFTER_UNAVAILABLE = 5
CANCELLED_SUBJECT = "is cancelled"


async def answered(client: httpx.AsyncClient, fan: Fan, path: str, body: Any, status: int) -> Any:
    """The answer to a POST sent again after a 503 or a lost connection, as a fan's app does (the
    same key, so it takes effect once); a loaded machine answers some of 300 purchases that way."""
    headers = {"Idempotency-Key": str(uuid.uuid4()), "Authorization": f"Bearer {fan.token}"}
    for _ in range(RETRIES_AFTER_UNAVAILABLE):
        try:
            answer = await client.post(path, json=body, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(1.0)
            continue
        if answer.status_code != 503:
            assert answer.status_code == status, answer.text
            return answer.json()
        await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
    raise AssertionError(f"{path} was never answered")


async def paid_orders(stack: Stack, event: CreatedEvent, count: int) -> list[tuple[Fan, Any]]:
    """`count` fans with one paid order of one ticket each, bought side by side."""
    gate = asyncio.Semaphore(SEED_CONCURRENCY)
    items = {"items": [{"ticket_type_id": event.general, "quantity": 1}]}

    async def one(client: httpx.AsyncClient) -> tuple[Fan, Any]:
        fan = Fan(stack, event)
        async with gate:
            hold = await answered(client, fan, f"/v1/events/{event.event_id}/holds", items, 201)
            order = await answered(client, fan, f"/v1/holds/{hold['hold_id']}/checkout", None, 201)
            paid = await answered(
                client, fan, f"/v1/dev/orders/{order['order_id']}/pay", {"card": VISA}, 200
            )
        return fan, paid

    # One client for every fan (each request names its fan): a client per fan costs more CPU
    # than the purchase it sends.
    async with stack.client() as client:
        return list(await asyncio.gather(*(one(client) for _ in range(count))))


async def refund_stats(event: CreatedEvent) -> dict[str, int]:
    async with event.venue() as venue:
        answer = await venue.get(f"/v1/venue/events/{event.event_id}/stats")
    assert answer.status_code == 200, answer.text
    refunds: dict[str, int] = answer.json()["refunds"]
    return refunds


async def stats_once(event: CreatedEvent, done: Any, what: str) -> dict[str, int]:
    deadline = time.monotonic() + REFUNDS_DONE_TIMEOUT_S
    while time.monotonic() < deadline:
        refunds = await refund_stats(event)
        if done(refunds):
            return refunds
        await asyncio.sleep(POLL_INTERVAL_S)
    raise AssertionError(f"{what} never came: {await refund_stats(event)}")


async def kill_payment_workers(stack: Stack) -> int:
    """SIGKILL every payment worker's process, as a crash would; how many were killed. Each
    worker is asked for its own process id, so nothing else can be hit."""
    pids = set()
    for index in range(limits.PAYMENT_WORKERS):
        worker = ray.get_actor(
            payment_worker_name(stack.parts.database_service_url, index), namespace=NAMESPACE
        )
        pids.add(await worker.__ray_call__.remote(lambda _: os.getpid()))
    assert all(pid > 1 and pid != os.getpid() for pid in pids), pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return len(pids)


async def stripe_refunds_by_intent(stack: Stack, intents: set[str]) -> collections.Counter[str]:
    """How many refunds Stripe holds for each of these PaymentIntents, read through its API."""
    client = stripe.StripeClient(
        stack.parts.stripe_api_key,
        base_addresses={"api": stack.parts.stripe_api_base},
        http_client=stripe.HTTPXClient(),
    )
    counts: collections.Counter[str] = collections.Counter()
    page = await client.v1.refunds.list_async({"limit": 100})
    async for refund in page.auto_paging_iter():
        if refund.payment_intent in intents:
            counts[str(refund.payment_intent)] += 1
    return counts


def cancellation_emails(stack: Stack) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for path in stack.outside.mail_directory.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        if CANCELLED_SUBJECT in str(message["Subject"]):
            counts[str(message["To"])] += 1
    return counts


# 300 purchases and 300 paced refunds (about 15 s at Stripe's test-mode pace) take a few
# minutes on a loaded two-core machine: more than the suite's default bound per test.
@pytest.mark.timeout(900)
async def test_every_paid_order_is_refunded_once_when_the_workers_die_midway(
    stack: Stack,
) -> None:
    venue = Venue(stack)
    event = await venue.event(general_capacity=PAID_ORDERS, seat_rows=0)
    await inventory_started(stack, event)
    bought = await paid_orders(stack, event, PAID_ORDERS)
    first_fan, first_order = bought[0]
    first_ticket_id = first_order["tickets"][0]["ticket_id"]
    # The app keeps the ticket's code key, so it can show a current code after the refund.
    first_key = await code_key_of(first_fan, first_ticket_id)

    async with event.venue() as client:
        cancelled = await client.post(
            f"/v1/venue/events/{event.event_id}/cancel", json={"reason": "the venue flooded"}
        )
    assert cancelled.status_code == 202, cancelled.text
    await stats_once(
        event, lambda refunds: refunds["refunded"] >= KILL_AFTER_REFUNDED, "the first refunds"
    )
    assert await kill_payment_workers(stack) == limits.PAYMENT_WORKERS
    midway = await refund_stats(event)
    assert midway["refunded"] < PAID_ORDERS, "the workers were killed after the last refund"

    done = await stats_once(
        event,
        lambda refunds: refunds["pending"] == 0 and refunds["refunded"] == PAID_ORDERS,
        "every refund",
    )
    assert done == {"pending": 0, "refunded": PAID_ORDERS, "failed": 0}
    owner = await asyncpg.connect(stack.parts.database_url)
    try:
        rows = await owner.fetch(
            """
            SELECT payments.payment_intent_id, orders.status,
                   array_agg(DISTINCT tickets.status) AS ticket_statuses
            FROM orders JOIN payments ON payments.order_id = orders.id
            JOIN tickets ON tickets.order_id = orders.id
            WHERE orders.event_id = $1 GROUP BY payments.payment_intent_id, orders.status
            """,
            uuid.UUID(event.event_id),
        )
    finally:
        await owner.close()
    assert len(rows) == PAID_ORDERS
    assert {row["status"] for row in rows} == {"refunded"}
    assert {tuple(row["ticket_statuses"]) for row in rows} == {("refunded",)}
    intents = {row["payment_intent_id"] for row in rows}
    at_stripe = await stripe_refunds_by_intent(stack, intents)
    assert set(at_stripe) == intents and set(at_stripe.values()) == {1}
    now = datetime.datetime.now(datetime.UTC)
    scanned = await venue.scan(event, code_at(first_key, first_ticket_id, now))
    assert scanned.json()["result"] == "rejected" and scanned.json()["reason"] == "refunded"
    fans = {fan.email for fan, _ in bought}
    for _ in range(int(REFUNDS_DONE_TIMEOUT_S / POLL_INTERVAL_S)):
        if fans <= set(cancellation_emails(stack)):
            break
        await asyncio.sleep(POLL_INTERVAL_S)
    emailed = cancellation_emails(stack)
    assert {address: emailed[address] for address in fans} == dict.fromkeys(fans, 1)
