"""Steps the codes' HTTP tests share: an event with a hidden type, a venue making codes, a fan
holding with one (sent again after a 503, with the same Idempotency-Key, as a fan's app would)."""

import asyncio
import datetime
import uuid
from typing import Any

import httpx

from gateway.auth import Role
from tests.gateway.http_journeys import CREATED_EVENT_IDS, CreatedEvent, Fan
from tests.gateway.stack import Stack, event_body, moment

VIP_PRICE_CENTS = 12_345
GENERAL_PRICE_CENTS = 5_000
RETRIES_AFTER_503 = 20
RETRY_PAUSE_S = 0.25


async def coded_event(stack: Stack, **body: Any) -> CreatedEvent:
    """An event of general admission (GA), reserved seats (RES) and a hidden general type (VIP)."""
    created = event_body(**body)
    created["ticket_types"].append(
        {
            "key": "VIP",
            "name": "Backstage",
            "kind": "general",
            "price_cents": VIP_PRICE_CENTS,
            "capacity": 50,
            "hidden": True,
        }
    )
    token = stack.token(roles=(Role.VENUE_MANAGER,))
    async with stack.client(token) as client:
        answer = await client.post("/v1/venue/events", json=created)
    assert answer.status_code == 201, answer.text
    CREATED_EVENT_IDS.append(answer.json()["event_id"])
    return CreatedEvent(stack, token, answer.json())


def in_minutes(minutes: float) -> str:
    return moment(datetime.timedelta(minutes=minutes))


async def sent(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    """The request, sent again with the same Idempotency-Key while the answer is a 503."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    for _ in range(RETRIES_AFTER_503):
        answer = await client.request(method, path, json=body, headers=headers)
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(RETRY_PAUSE_S)
    return answer


async def make_code(event: CreatedEvent, **body: Any) -> httpx.Response:
    values: dict[str, Any] = {"kind": "discount", "discount": {"percent": 10}} | body
    async with event.venue() as client:
        return await sent(client, "POST", f"/v1/venue/events/{event.event_id}/codes", values)


async def made_code(event: CreatedEvent, **body: Any) -> dict[str, Any]:
    answer = await make_code(event, **body)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


async def hold_with(
    fan: Fan, code: str | None, ticket_type_id: str | None = None, quantity: int = 2
) -> httpx.Response:
    body: dict[str, Any] = {
        "items": [{"ticket_type_id": ticket_type_id or fan.event.general, "quantity": quantity}]
    }
    if code is not None:
        body["code"] = code
    async with fan.client() as client:
        return await sent(client, "POST", f"/v1/events/{fan.event.event_id}/holds", body)


async def held_with(fan: Fan, code: str | None, **options: Any) -> dict[str, Any]:
    answer = await hold_with(fan, code, **options)
    assert answer.status_code == 201, answer.text
    hold: dict[str, Any] = answer.json()
    return hold


async def venue_codes(event: CreatedEvent, **parameters: Any) -> dict[str, Any]:
    async with event.venue() as client:
        answer = await client.get(f"/v1/venue/events/{event.event_id}/codes", params=parameters)
    assert answer.status_code == 200, answer.text
    listed: dict[str, Any] = answer.json()
    return listed


async def release(fan: Fan, hold_id: str) -> None:
    async with fan.client() as client:
        answer = await client.delete(f"/v1/holds/{hold_id}")
    assert answer.status_code == 204, answer.text
