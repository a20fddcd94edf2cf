"""Bodies are bounded as they stream in: an upload over its route's limit is refused with 413 before
it is kept, hot route or not, declared or chunked; large bodies read at once are bounded; and a
body within its limit, or one its route never reads, is served as before. Over real TCP, with the
request bodies written by hand so the test never holds them."""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator

from engine import limits
from gateway.auth import Role
from tests.gateway.http_journeys import Fan, create_event, error_code, general_items
from tests.gateway.raw_http import Answer, post, stalled_upload
from tests.gateway.stack import Stack

log = logging.getLogger(__name__)
WEBHOOK = "/v1/webhooks/stripe"
UPLOAD_BYTES = 256 * 1024 * 1024
PARALLEL_UPLOADS = 8
# What 16 refused 256 MB uploads may add to the process that serves them (and sends them).
RESIDENT_GROWTH_BYTES_MAX = 64 * 1024 * 1024
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
SAMPLE_INTERVAL_S = 0.005
SLOTS_FREED_TIMEOUT_S = 10.0


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_BYTES


@contextlib.contextmanager
def resident_peak() -> Iterator[list[int]]:
    """[baseline, peak] of this process's resident memory, sampled in a thread meanwhile."""
    figures = [resident_bytes()] * 2
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            figures[1] = max(figures[1], resident_bytes())
            time.sleep(SAMPLE_INTERVAL_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield figures
    finally:
        stop.set()
        sampler.join()
        figures[1] = max(figures[1], resident_bytes())


def assert_too_large(answer: Answer, bytes_max: int) -> None:
    assert answer.status == 413, (answer.status, answer.body[:300])
    error = answer.error()
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert error["details"] == {"bytes_max": bytes_max}
    assert answer.headers["x-request-id"]
    assert answer.headers["connection"] == "close"


def signed_webhook(stack: Stack, padding_bytes: int) -> tuple[bytes, dict[str, str]]:
    """An event Stripe may send that names no order of ours, padded to about `padding_bytes`."""
    created = int(time.time())
    payload = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": "customer.created",
            "created": created,
            "data": {"object": {"id": "cus_1", "description": "p" * padding_bytes}},
        }
    ).encode()
    signature = hmac.new(
        stack.parts.stripe_webhook_secret.encode(), f"{created}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return payload, {"Stripe-Signature": f"t={created},v1={signature}"}


async def test_refused_with_413_and_little_memory_when_256_mb_uploads_stream_to_the_webhook(
    stack: Stack,
) -> None:
    uploads = [
        post(stack.base_url, WEBHOOK, filler_bytes=UPLOAD_BYTES, chunked=chunked)
        for chunked in (False, True)
        for _ in range(PARALLEL_UPLOADS)
    ]

    with resident_peak() as figures:
        answers = await asyncio.gather(*uploads)
    baseline, peak = figures

    log.info(
        "resident memory during the uploads: baseline %d MB, peak %d MB, bound +%d MB",
        baseline // 2**20,
        peak // 2**20,
        RESIDENT_GROWTH_BYTES_MAX // 2**20,
    )
    for answer in answers:
        assert_too_large(answer, limits.STRIPE_WEBHOOK_BYTES_MAX)
    assert peak - baseline < RESIDENT_GROWTH_BYTES_MAX, figures


async def test_refused_with_413_when_a_hold_or_a_queue_join_is_over_the_hot_routes_limit(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=5)
    headers = {"Authorization": f"Bearer {stack.token()}", "Content-Type": "application/json"}
    over = limits.HOT_ROUTE_BODY_BYTES_MAX + 1

    declared_hold = await post(
        stack.base_url, f"/v1/events/{event.event_id}/holds", filler_bytes=over, chunked=False
    )
    streamed_hold = await post(
        stack.base_url,
        f"/v1/events/{event.event_id}/holds",
        filler_bytes=over,
        chunked=True,
        headers=headers,
    )
    declared_join = await post(
        stack.base_url, f"/v1/events/{event.event_id}/queue", filler_bytes=over, chunked=False
    )

    for answer in (declared_hold, streamed_hold, declared_join):
        assert_too_large(answer, limits.HOT_ROUTE_BODY_BYTES_MAX)


async def test_refused_with_413_when_a_streamed_body_passes_the_default_limit(
    stack: Stack,
) -> None:
    headers = {"Authorization": f"Bearer {stack.token(roles=(Role.VENUE_MANAGER,))}"}

    answer = await post(
        stack.base_url,
        "/v1/venue/events",
        filler_bytes=limits.REQUEST_BODY_BYTES_MAX + 1,
        chunked=True,
        headers=headers,
    )

    assert_too_large(answer, limits.REQUEST_BODY_BYTES_MAX)


async def test_served_as_before_when_a_large_body_is_within_its_routes_limit(
    stack: Stack,
) -> None:
    payload, headers = signed_webhook(stack, limits.STRIPE_WEBHOOK_BYTES_MAX // 2)
    answers = []
    for chunked in (False, True):
        answers.append(
            await post(stack.base_url, WEBHOOK, body=payload, chunked=chunked, headers=headers)
        )
    event = await create_event(stack, general_capacity=5)
    hold = json.dumps(general_items(event, 1)).encode()
    streamed_hold = await post(
        stack.base_url,
        f"/v1/events/{event.event_id}/holds",
        body=hold,
        chunked=True,
        headers={"Authorization": f"Bearer {stack.token()}"},
    )

    assert [(answer.status, answer.json()) for answer in answers] == [
        (200, {"received": True, "applied": False})
    ] * 2
    assert streamed_hold.status == 201, streamed_hold.body


async def test_served_when_a_route_never_reads_a_large_streamed_body(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=5)
    fan = Fan(stack, event)
    hold_id = await fan.hold(1)

    answer = await post(
        stack.base_url,
        f"/v1/holds/{hold_id}/checkout",
        filler_bytes=4 * limits.HOT_ROUTE_BODY_BYTES_MAX,
        chunked=True,
        headers={"Authorization": f"Bearer {fan.token}"},
    )

    assert answer.status == 201, answer.body
    assert answer.json()["status"] == "pending_payment"


async def test_unavailable_with_retry_after_when_too_many_large_bodies_are_read_at_once(
    stack: Stack,
) -> None:
    reading = [
        await stalled_upload(stack.base_url, WEBHOOK)
        for _ in range(limits.LARGE_BODIES_IN_FLIGHT_MAX)
    ]
    try:
        assert all(upload.continued and not upload.reading.done() for upload in reading)
        refused = await post(stack.base_url, WEBHOOK, filler_bytes=1, chunked=True)
    finally:
        for upload in reading:
            await upload.close()

    assert refused.status == 503
    assert refused.error()["code"] == "UNAVAILABLE"
    assert int(refused.headers["retry-after"]) >= 1
    deadline = time.monotonic() + SLOTS_FREED_TIMEOUT_S
    while (
        answer := await post(stack.base_url, WEBHOOK, filler_bytes=1, chunked=True)
    ).status == 503:
        assert time.monotonic() < deadline, "the stalled uploads' places were never given back"
    assert answer.error()["code"] == "BAD_SIGNATURE"


async def test_small_bodies_are_served_as_before_when_they_declare_their_length(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=5)
    async with stack.client(stack.token()) as fan:
        placed = await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, 1))
        malformed = await fan.post(f"/v1/events/{event.event_id}/holds", content=b"{")

    assert placed.status_code == 201, placed.text
    assert (malformed.status_code, error_code(malformed)) == (422, "VALIDATION_ERROR")
