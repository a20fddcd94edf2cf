"""Venue webhooks: signatures that verify and ones that do not, the POST with its retries, and
the addresses it may go to: public ones only in production, always the address that was checked."""

import json
import random
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from engine import limits
from notifications.venue_webhooks import (
    SIGNATURE_HEADER,
    VenueEndpoint,
    WebhookSender,
    new_http_client,
    signature_header,
    verify_signature,
    webhook_body,
)
from notifications.webhook_destinations import Resolve, is_public
from tests.notifications.conftest import VenueServer
from tests.notifications.notice_builders import order_confirmed

SECRET = "whsec_" + "ab" * 32
BODY = b'{"id":"1","type":"order.confirmed","created":1,"data":{}}'
NOW_S = 1_700_000_000


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    client = new_http_client()
    yield WebhookSender(client, allow_private=True, generator=random.Random(7))
    await client.aclose()


def test_signature_verifies_when_made_with_the_secret_within_the_tolerance() -> None:
    header = signature_header(SECRET, NOW_S, BODY)
    assert verify_signature(secret=SECRET, header=header, body=BODY, now_s=NOW_S + 299)


@pytest.mark.parametrize(
    ("header", "body", "now_s"),
    [
        (signature_header("whsec_" + "cd" * 32, NOW_S, BODY), BODY, NOW_S),
        (signature_header(SECRET, NOW_S, BODY), BODY + b" ", NOW_S),
        (signature_header(SECRET, NOW_S, BODY), BODY, NOW_S + 301),
        (signature_header(SECRET, NOW_S, BODY), BODY, NOW_S - 301),
        (
            signature_header(SECRET, NOW_S, BODY).replace(f"t={NOW_S}", f"t={NOW_S + 1}"),
            BODY,
            NOW_S,
        ),
        (f"t={NOW_S}", BODY, NOW_S),
        ("v1=" + "0" * 64, BODY, NOW_S),
        ("", BODY, NOW_S),
        (f"t=٣,v1={'0' * 64}", BODY, NOW_S),
    ],
    ids=[
        "other secret",
        "other body",
        "stale",
        "from the future",
        "timestamp changed",
        "no signature",
        "no timestamp",
        "empty",
        "non-ascii digit",
    ],
)
def test_signature_does_not_verify_when_forged_stale_or_malformed(
    header: str, body: bytes, now_s: int
) -> None:
    assert not verify_signature(secret=SECRET, header=header, body=body, now_s=now_s)


def test_body_carries_a_stable_id_and_no_email_when_built_from_a_notice() -> None:
    notice = order_confirmed(uuid.uuid4(), uuid.uuid4())
    body = json.loads(webhook_body(notice, webhook_id="n-1", created_s=NOW_S))

    assert set(body) == {"id", "type", "created", "data"}
    assert (body["id"], body["type"], body["created"]) == ("n-1", "order.confirmed", NOW_S)
    assert body["data"]["order_id"] == str(notice.order_id)
    assert body["data"]["total_cents"] == 18_900
    assert [ticket["seat"] for ticket in body["data"]["tickets"]] == ["101-A-7", None]
    assert "email" not in body["data"] and notice.email not in json.dumps(body)


async def test_webhook_arrives_signed_when_the_venue_answers_200(
    sender: WebhookSender, venue_server: VenueServer
) -> None:
    failure = await sender.send(VenueEndpoint(url=venue_server.url, secret=SECRET), BODY)

    assert failure is None
    [received] = venue_server.received
    assert received.path == "/hooks/onsale"
    assert received.body == BODY
    assert received.headers["Content-Type"] == "application/json"
    assert verify_signature(
        secret=SECRET,
        header=received.headers[SIGNATURE_HEADER],
        body=received.body,
        now_s=int(time.time()),
    )


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_webhook_is_retried_until_it_arrives_when_the_venue_fails_first(
    sender: WebhookSender, venue_server: VenueServer, status: int
) -> None:
    venue_server.statuses = [status]

    failure = await sender.send(VenueEndpoint(url=venue_server.url, secret=SECRET), BODY)

    assert failure is None
    assert len(venue_server.received) == 2
    assert all(request.body == BODY for request in venue_server.received)


async def test_webhook_fails_retryably_after_its_attempts_when_the_venue_keeps_failing(
    sender: WebhookSender, venue_server: VenueServer
) -> None:
    venue_server.statuses = [500] * limits.WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX

    failure = await sender.send(VenueEndpoint(url=venue_server.url, secret=SECRET), BODY)

    assert failure is not None and failure.retryable and "500" in failure.error
    assert len(venue_server.received) == limits.WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX


@pytest.mark.parametrize("status", [400, 404, 410, 301])
async def test_webhook_is_not_retried_when_the_venue_refuses_it(
    sender: WebhookSender, venue_server: VenueServer, status: int
) -> None:
    venue_server.statuses = [status]

    failure = await sender.send(VenueEndpoint(url=venue_server.url, secret=SECRET), BODY)

    assert failure is not None and not failure.retryable
    assert len(venue_server.received) == 1


async def test_webhook_fails_retryably_when_nothing_listens() -> None:
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, allow_private=True, generator=random.Random(7))
        failure = await sender.send(VenueEndpoint(url="http://127.0.0.1:1/", secret=SECRET), BODY)

    assert failure is not None and failure.retryable


def resolving_to(*addresses: str) -> Resolve:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
    ],
)
async def test_webhook_is_refused_for_good_when_its_host_resolves_to_a_private_address(
    venue_server: VenueServer, address: str
) -> None:
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, allow_private=False, resolve=resolving_to(address))
        failure = await sender.send(VenueEndpoint(url=venue_server.url, secret=SECRET), BODY)

    assert failure is not None and not failure.retryable
    assert "not a public address" in failure.error
    assert venue_server.received == []


async def test_webhook_is_refused_when_one_of_its_hosts_addresses_is_private(
    venue_server: VenueServer,
) -> None:
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(
            client, allow_private=False, resolve=resolving_to("93.184.216.34", "10.0.0.1")
        )
        failure = await sender.send(VenueEndpoint(url=venue_server.url, secret=SECRET), BODY)

    assert failure is not None and "10.0.0.1" in failure.error
    assert venue_server.received == []


async def test_loopback_is_refused_by_name_when_private_addresses_are_not_allowed(
    venue_server: VenueServer,
) -> None:
    url = venue_server.url.replace("127.0.0.1", "localhost")
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, allow_private=False)
        failure = await sender.send(VenueEndpoint(url=url, secret=SECRET), BODY)

    assert failure is not None and not failure.retryable
    assert venue_server.received == []


async def test_webhook_goes_to_the_checked_address_under_its_own_host_name(
    venue_server: VenueServer,
) -> None:
    port = urllib.parse.urlsplit(venue_server.url).port
    url = f"http://hooks.venue.test:{port}/hooks/onsale"
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, allow_private=True, resolve=resolving_to("127.0.0.1"))
        failure = await sender.send(VenueEndpoint(url=url, secret=SECRET), BODY)

    assert failure is None
    [received] = venue_server.received
    assert received.headers["Host"] == f"hooks.venue.test:{port}"
    assert received.path == "/hooks/onsale"


async def test_webhook_fails_retryably_when_its_host_does_not_resolve() -> None:
    async def fails(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    async with httpx.AsyncClient() as client:
        sender = WebhookSender(client, allow_private=False, resolve=fails)
        failure = await sender.send(
            VenueEndpoint(url="https://hooks.venue.test/x", secret=SECRET), BODY
        )

    assert failure is not None and failure.retryable
    assert "does not resolve" in failure.error


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1::1", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
    ],
)
def test_public_addresses_are_told_from_private_ones(address: str, public: bool) -> None:
    assert is_public(address) is public
