"""Steps the HTTP tests of ticket types' own sale windows and price phases share: a venue creating
an event whose types carry them, fans holding (sent again after a 503 with the same key, as a
fan's app would) and the type as GET /v1/events/{id} shows it."""

import asyncio
import datetime
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.gateway.http_journeys import (
    CREATED_EVENT_IDS,
    VENUE_ROLES,
    CreatedEvent,
    Fan,
)
from tests.gateway.stack import Stack, event_body, moment

ATTEMPTS = 3
SHOWN_WITHIN_S = 10.0
POLL_INTERVAL_S = 0.2


def from_now(**delta: float) -> str:
    return moment(datetime.timedelta(**delta))


def body_with(
    general: dict[str, Any] | None = None, reserved: dict[str, Any] | None = None, **body: Any
) -> dict[str, Any]:
    """event_body's event, its GA and RES types given the fields named (None drops a field)."""
    created = event_body(**body)
    for ticket_type, fields in zip(created["ticket_types"], (general, reserved), strict=False):
        for name, value in (fields or {}).items():
            if value is None:
                ticket_type.pop(name, None)
            else:
                ticket_type[name] = value
    return created


async def answered(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """The answer to `send`, sent again after a 503 as a fan's app would."""
    for _ in range(ATTEMPTS):
        answer = await send()
        if answer.status_code != 503:
            break
    return answer


async def create_event_of(stack: Stack, body: dict[str, Any]) -> CreatedEvent:
    token = stack.token(roles=VENUE_ROLES)
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with stack.client(token) as client:
        answer = await answered(lambda: client.post("/v1/venue/events", json=body, headers=headers))
    assert answer.status_code == 201, answer.text
    CREATED_EVENT_IDS.append(answer.json()["event_id"])
    return CreatedEvent(stack, token, answer.json())


async def refused_event(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    """The error of a creation the API refuses."""
    async with stack.client(stack.token(roles=VENUE_ROLES)) as client:
        answer = await client.post("/v1/venue/events", json=body)
    assert answer.status_code == 422, answer.text
    error: dict[str, Any] = answer.json()["error"]
    return error


async def place(fan: Fan, body: dict[str, Any]) -> httpx.Response:
    url = f"/v1/events/{fan.event.event_id}/holds"
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with fan.client() as client:
        return await answered(lambda: client.post(url, json=body, headers=headers))


def general(event: CreatedEvent, quantity: int) -> dict[str, Any]:
    return {"items": [{"ticket_type_id": event.general, "quantity": quantity}]}


async def held(fan: Fan, body: dict[str, Any]) -> dict[str, Any]:
    answer = await place(fan, body)
    assert answer.status_code == 201, answer.text
    hold: dict[str, Any] = answer.json()
    return hold


def priced(hold: dict[str, Any]) -> list[tuple[int, int]]:
    """A hold's or order's items as (quantity, unit price)."""
    return [(item["quantity"], item["unit_price_cents"]) for item in hold["items"]]


async def shown_type(event: CreatedEvent, key: str) -> dict[str, Any]:
    async with event.stack.client(event.stack.token()) as client:
        answer = await client.get(f"/v1/events/{event.event_id}")
    assert answer.status_code == 200, answer.text
    shown: dict[str, Any] = next(
        ticket_type for ticket_type in answer.json()["ticket_types"] if ticket_type["key"] == key
    )
    return shown


async def shown_price_once(event: CreatedEvent, key: str, price_cents: int) -> dict[str, Any]:
    """The type as shown once its price is `price_cents` (the figures are a second old at most)."""
    deadline = time.monotonic() + SHOWN_WITHIN_S
    while True:
        shown = await shown_type(event, key)
        if shown["price_cents"] == price_cents or time.monotonic() > deadline:
            assert shown["price_cents"] == price_cents, shown
            return shown
        await asyncio.sleep(POLL_INTERVAL_S)


async def patched(event: CreatedEvent, ticket_types: list[dict[str, Any]]) -> httpx.Response:
    async with event.venue() as client:
        return await answered(
            lambda: client.patch(
                f"/v1/venue/events/{event.event_id}", json={"ticket_types": ticket_types}
            )
        )
