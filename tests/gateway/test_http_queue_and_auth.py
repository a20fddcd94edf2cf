"""The waiting room over HTTP, from pre-queue through admission to a hold; the token checks every
endpoint relies on; the rate limits; and the OpenAPI document."""

import asyncio
import base64
import datetime
import json
import time
import uuid

import httpx
import jwt
import pytest
from fastapi.routing import APIRoute

from embedded.loopback import free_port
from engine.limits import RATE_LIMIT_ADDRESS_BURST
from gateway.auth import Role
from gateway.openapi import OPERATIONS
from gateway.routes import (
    balance,
    cancellations,
    claims,
    codes,
    devices,
    events,
    exports,
    failed_work,
    health,
    holds,
    my_orders,
    order_desk,
    orders,
    payments,
    queue,
    scanning,
    stock,
    ticket_tools,
    tickets,
    venue,
    wait_list,
)
from tests.gateway.http_journeys import CreatedEvent, create_event, error_code, general_items
from tests.gateway.stack import Stack, gateway_settings, serving

pytestmark = pytest.mark.usefixtures("stack")
ADMISSION_TIMEOUT_S = 30.0
ROUTERS = (
    *(
        module.router
        for module in (
            health,
            venue,
            events,
            claims,
            exports,
            balance,
            queue,
            holds,
            orders,
            payments,
            tickets,
            scanning,
            devices,
            ticket_tools,
            failed_work,
            wait_list,
            codes,
            order_desk,
            my_orders,
            stock,
            cancellations,
        )
    ),
    payments.development_router,
)


async def test_fan_is_admitted_at_once_with_the_same_place_when_the_room_is_off(
    stack: Stack,
) -> None:
    event = await create_event(stack)
    async with stack.client(stack.token()) as fan, stack.client(stack.token()) as other:
        first = await fan.post(f"/v1/events/{event.event_id}/queue")
        again = await fan.post(f"/v1/events/{event.event_id}/queue")
        polled = await fan.get(f"/v1/events/{event.event_id}/queue/{first.json()['queue_id']}")
        stolen = await other.get(f"/v1/events/{event.event_id}/queue/{first.json()['queue_id']}")

    assert first.status_code == 200
    assert first.json()["state"] == "admitted" and first.json()["access_token"]
    assert first.json()["position"] is None
    assert again.json()["queue_id"] == first.json()["queue_id"]
    assert polled.json()["state"] == "admitted"
    assert (stolen.status_code, error_code(stolen)) == (404, "NOT_FOUND")


async def poll_until_admitted(stack: Stack, token: str, event: CreatedEvent, queue_id: str) -> str:
    deadline = time.monotonic() + ADMISSION_TIMEOUT_S
    async with stack.client(token) as fan:
        while time.monotonic() < deadline:
            answer = await fan.get(f"/v1/events/{event.event_id}/queue/{queue_id}")
            assert answer.status_code in {200, 503}, answer.text
            if answer.status_code == 200 and answer.json()["state"] == "admitted":
                access_token: str = answer.json()["access_token"]
                return access_token
            await asyncio.sleep(0.2)
    raise AssertionError("the fan was never admitted")


async def test_fans_go_from_pre_queue_through_admission_to_a_hold(stack: Stack) -> None:
    event = await create_event(
        stack,
        opens_in=datetime.timedelta(seconds=4),
        waiting_room={"enabled": True, "admit_per_second": 50, "max_active_shoppers": 100},
    )
    tokens = [stack.token() for _ in range(3)]
    joined = []
    for token in tokens:
        async with stack.client(token) as fan:
            joined.append((await fan.post(f"/v1/events/{event.event_id}/queue")).json())
    async with stack.client(tokens[0]) as fan:
        early = await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, 1))
        stolen = await fan.get(f"/v1/events/{event.event_id}/queue/{joined[1]['queue_id']}")

    access_tokens = [
        await poll_until_admitted(stack, token, event, place["queue_id"])
        for token, place in zip(tokens, joined, strict=True)
    ]
    async with stack.client(tokens[0]) as fan:
        without = await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, 1))
        someone_elses = await fan.post(
            f"/v1/events/{event.event_id}/holds",
            json=general_items(event, 1),
            headers={"X-Access-Token": access_tokens[1]},
        )
        placed = await fan.post(
            f"/v1/events/{event.event_id}/holds",
            json=general_items(event, 1),
            headers={"X-Access-Token": access_tokens[0]},
        )

    assert {place["state"] for place in joined} == {"pre_queue"}
    assert {place["position"] for place in joined} == {None}
    assert len({place["queue_id"] for place in joined}) == 3
    assert (early.status_code, error_code(early)) == (403, "NOT_ADMITTED")
    assert (stolen.status_code, error_code(stolen)) == (404, "NOT_FOUND")
    assert (without.status_code, error_code(without)) == (403, "NOT_ADMITTED")
    assert (someone_elses.status_code, error_code(someone_elses)) == (403, "NOT_ADMITTED")
    assert placed.status_code == 201, placed.text


def unsigned_token(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "sub": "fan-1",
        "tenant": str(uuid.uuid4()),
        "roles": ["fan"],
        "iss": "onsale",
        "aud": "onsale",
        "exp": now + 600,
    } | changes


@pytest.mark.parametrize(
    "case",
    ["missing", "none algorithm", "expired", "wrong signature", "wrong audience", "not bearer"],
)
async def test_request_is_unauthenticated_when_the_token_is_bad(stack: Stack, case: str) -> None:
    secret = stack.parts.jwt_secret
    assert secret is not None
    headers = {
        "missing": {},
        "none algorithm": {"Authorization": f"Bearer {unsigned_token(claims())}"},
        "expired": {
            "Authorization": "Bearer "
            + jwt.encode(claims(exp=int(time.time()) - 3_600), secret, algorithm="HS256")
        },
        "wrong signature": {
            "Authorization": "Bearer " + jwt.encode(claims(), "x" * 40, algorithm="HS256")
        },
        "wrong audience": {
            "Authorization": "Bearer " + jwt.encode(claims(aud="other"), secret, algorithm="HS256")
        },
        "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
    }[case]
    async with stack.client(None, **headers) as client:
        answer = await client.get(f"/v1/events/{uuid.uuid4()}")
    assert (answer.status_code, error_code(answer)) == (401, "UNAUTHENTICATED")


async def test_fan_is_rate_limited_with_retry_after_when_it_hammers(stack: Stack) -> None:
    port = free_port()
    settings = gateway_settings(rate_limit_fan_per_s=1, rate_limit_address_per_s=1_000_000)
    with serving(settings, stack.parts, port):
        token = stack.token()
        async with stack.client(token) as fan:
            fan.base_url = f"http://127.0.0.1:{port}"
            answers = [await fan.get(f"/v1/events/{uuid.uuid4()}") for _ in range(40)]
        async with stack.client(stack.token()) as other:
            other.base_url = f"http://127.0.0.1:{port}"
            unaffected = await other.get(f"/v1/events/{uuid.uuid4()}")

    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited and error_code(limited[0]) == "RATE_LIMITED"
    assert int(limited[0].headers["retry-after"]) >= 1
    assert unaffected.status_code == 404


FLOOD_CHUNK = 50


async def test_bad_tokens_from_one_address_are_rate_limited_when_they_flood(stack: Stack) -> None:
    port = free_port()
    settings = gateway_settings(rate_limit_fan_per_s=1_000_000, rate_limit_address_per_s=1)
    answers: list[httpx.Response] = []
    with serving(settings, stack.parts, port):
        async with stack.client(None, Authorization="Bearer not-a-token") as flood:
            flood.base_url = f"http://127.0.0.1:{port}"
            # The bucket refills a token a second: the flood is sent a chunk at a time, so it
            # outruns the refill however slow the machine answers each request.
            while len(answers) < 2 * RATE_LIMIT_ADDRESS_BURST:
                chunk = await asyncio.gather(
                    *(flood.get(f"/v1/events/{uuid.uuid4()}") for _ in range(FLOOD_CHUNK))
                )
                answers.extend(chunk)
                if any(answer.status_code != 401 for answer in chunk):
                    break

    refused = [answer for answer in answers if answer.status_code != 401]
    assert len(answers) - len(refused) >= RATE_LIMIT_ADDRESS_BURST
    assert refused
    for answer in refused:
        assert (answer.status_code, error_code(answer)) == (429, "RATE_LIMITED")
        assert answer.json()["error"]["details"] == {"scope": "address"}


async def test_openapi_document_lists_every_api_route(stack: Stack) -> None:
    async with stack.client() as client:
        document = (await client.get("/openapi.json")).json()

    assert document["openapi"].startswith("3.")
    assert {"/v1/venue/events", "/v1/events/{event_id}/holds", "/v1/holds/{hold_id}"} <= set(
        document["paths"]
    )
    hold_answers = document["paths"]["/v1/events/{event_id}/holds"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "422", "429", "503"} <= set(hold_answers)


def test_openapi_table_matches_the_routes_of_the_app() -> None:
    served = {
        (method.lower(), route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert served == {(operation.method, operation.path) for operation in OPERATIONS}


async def test_fan_token_cannot_reach_venue_endpoints(stack: Stack) -> None:
    event = await create_event(stack)
    async with stack.client(stack.token(roles=(Role.FAN,))) as fan:
        answer = await fan.get(f"/v1/venue/events/{event.event_id}/stats")
    assert (answer.status_code, error_code(answer)) == (403, "FORBIDDEN")
