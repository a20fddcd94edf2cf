"""The address bucket over HTTP, behind a load balancer: fans behind one trusted balancer each get
their own bucket, while a peer that is not trusted keeps one bucket whatever X-Forwarded-For it
forges. The tests connect from 127.0.0.1, which plays the balancer when it is trusted; uvicorn's
own reading of the header (on for 127.0.0.1 by default) is off, or the second test would fail."""

import ipaddress
import secrets
import uuid

import httpx

from embedded.loopback import free_port
from engine.limits import RATE_LIMIT_ADDRESS_BURST
from tests.gateway.http_journeys import error_code
from tests.gateway.stack import Stack, gateway_settings, serving

DOCUMENTATION_NETWORK = ipaddress.IPv6Network("2001:db8::/32")


def new_address() -> str:
    """An address of its own for this run: its bucket in the session's Redis is a new one."""
    offset = secrets.randbits(128 - DOCUMENTATION_NETWORK.prefixlen)
    return str(DOCUMENTATION_NETWORK.network_address + offset)


async def flood_until_refused(
    client: httpx.AsyncClient, forwarded_for: list[str]
) -> list[httpx.Response]:
    """Requests with a token that does not verify, each taking only its address's token, the
    i-th forwarded for `forwarded_for[i]`, until one is not UNAUTHENTICATED."""
    answers: list[httpx.Response] = []
    for hops in forwarded_for:
        answers.append(
            await client.get(f"/v1/events/{uuid.uuid4()}", headers={"X-Forwarded-For": hops})
        )
        if answers[-1].status_code != 401:
            break
    return answers


def refused_for_its_address(answer: httpx.Response) -> bool:
    return (answer.status_code, error_code(answer)) == (429, "RATE_LIMITED") and answer.json()[
        "error"
    ]["details"] == {"scope": "address"}


async def test_fans_behind_one_trusted_balancer_get_a_bucket_each(stack: Stack) -> None:
    port = free_port()
    settings = gateway_settings(
        rate_limit_fan_per_s=1_000_000, rate_limit_address_per_s=1, trusted_proxies="127.0.0.1"
    )
    hammering, other = new_address(), new_address()
    with serving(settings, stack.parts, port) as base_url:
        async with stack.client(None, Authorization="Bearer not-a-token") as balancer:
            balancer.base_url = httpx.URL(base_url)
            # The fan's own X-Forwarded-For, extended by the balancer.
            hammered = await flood_until_refused(
                balancer, [f"{new_address()}, {hammering}"] * (2 * RATE_LIMIT_ADDRESS_BURST)
            )
            others = await flood_until_refused(balancer, [other])

    assert len(hammered) > RATE_LIMIT_ADDRESS_BURST
    assert refused_for_its_address(hammered[-1])
    assert [answer.status_code for answer in others] == [401]


async def test_forged_header_does_not_split_the_bucket_of_an_untrusted_peer(stack: Stack) -> None:
    port = free_port()
    settings = gateway_settings(
        rate_limit_fan_per_s=1_000_000, rate_limit_address_per_s=1, trusted_proxies="192.0.2.0/24"
    )
    forged = [new_address() for _ in range(2 * RATE_LIMIT_ADDRESS_BURST)]
    with serving(settings, stack.parts, port) as base_url:
        async with stack.client(None, Authorization="Bearer not-a-token") as peer:
            peer.base_url = httpx.URL(base_url)
            answers = await flood_until_refused(peer, forged)

    # The bucket refills a token a second while the flood is sent, and may be part spent by an
    # earlier test from this address.
    assert len(answers) < len(forged)
    assert refused_for_its_address(answers[-1])
