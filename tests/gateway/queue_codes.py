"""Steps the queue-with-codes HTTP tests share: codes written straight into Postgres (as the
event's InventoryActor writes them), and a fan's queue requests sent again after a 503 with the
same Idempotency-Key, as a fan's app does."""

import asyncio
import datetime
import time
import uuid
from typing import Any

import asyncpg
import httpx

from tests.gateway.http_journeys import CreatedEvent, Fan

STATE_BOUND_S = 30.0
POLL_S = 0.1

INSERT_CODE = """
INSERT INTO codes (id, tenant_id, event_id, code, code_key, kind, valid_from, valid_until, active,
                   created_at)
SELECT $1, tenant_id, id, $2, upper($2), $3, $4, $5, $6, now()
FROM events
WHERE id = $7
"""


async def add_code(
    database_url: str,
    event: CreatedEvent,
    code: str,
    *,
    kind: str = "presale",
    valid_from: datetime.timedelta | None = datetime.timedelta(minutes=-5),
    valid_until: datetime.timedelta | None = None,
    active: bool = True,
) -> None:
    """A code of the event, its dates given from now."""
    now = datetime.datetime.now(datetime.UTC)
    connection = await asyncpg.connect(database_url)
    try:
        status = await connection.execute(
            INSERT_CODE,
            uuid.uuid4(),
            code,
            kind,
            None if valid_from is None else now + valid_from,
            None if valid_until is None else now + valid_until,
            active,
            uuid.UUID(event.event_id),
        )
    finally:
        await connection.close()
    assert status == "INSERT 0 1", status


async def send(fan: Fan, method: str, path: str, **request: Any) -> httpx.Response:
    """The answer to the fan's request, sent again while it is 503 (an actor still starting on a
    loaded machine) with the same Idempotency-Key."""
    deadline = time.monotonic() + STATE_BOUND_S
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    async with fan.client() as client:
        answer = await client.request(method, path, headers=headers, **request)
        while answer.status_code == 503 and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            answer = await client.request(method, path, headers=headers, **request)
    return answer


async def join(fan: Fan, code: str | None = None) -> httpx.Response:
    body = None if code is None else {"code": code}
    return await send(fan, "POST", f"/v1/events/{fan.event.event_id}/queue", json=body)


async def joined(fan: Fan, code: str | None = None) -> dict[str, Any]:
    answer = await join(fan, code)
    assert answer.status_code == 200, answer.text
    place: dict[str, Any] = answer.json()
    return place


async def poll(fan: Fan, queue_id: str) -> dict[str, Any]:
    answer = await send(fan, "GET", f"/v1/events/{fan.event.event_id}/queue/{queue_id}")
    assert answer.status_code == 200, answer.text
    place: dict[str, Any] = answer.json()
    return place


async def place_when(fan: Fan, queue_id: str, **expected: object) -> dict[str, Any]:
    """The fan's place once it shows every field of `expected`."""
    deadline = time.monotonic() + STATE_BOUND_S
    place = await poll(fan, queue_id)
    while not all(place[field] == value for field, value in expected.items()):
        assert time.monotonic() < deadline, f"the place never showed {expected}: {place}"
        await asyncio.sleep(POLL_S)
        place = await poll(fan, queue_id)
    return place
