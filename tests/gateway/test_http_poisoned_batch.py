"""One poisoned request among fifty concurrent holds, over real HTTP: a signed token whose `sub`
holds a NUL (which Postgres cannot store) is refused at the edge, alone, and the forty-nine holds
batched around it are all acknowledged and durable. (When such data gets past the edge anyway,
the InventoryActor replays the batch one command at a time: tests/actors/test_inventory_actor_
lifecycle.py shows it.)"""

import asyncio
import uuid

import asyncpg
import httpx

from tests.gateway.http_journeys import CreatedEvent, create_event, error_code, general_items
from tests.gateway.stack import Stack

FANS = 50
POISONED_USER = "fan-\x00-poisoned"


async def hold(stack: Stack, event: CreatedEvent, token: str) -> httpx.Response:
    async with stack.client(token) as client:
        return await client.post(
            f"/v1/events/{event.event_id}/holds",
            json=general_items(event, 1),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )


async def test_a_poisoned_hold_fails_alone_when_fifty_hold_at_once(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=FANS * 2, seat_rows=0)
    tokens = [stack.token(user_id=f"fan-{number:02}") for number in range(FANS - 1)]
    tokens.append(stack.token(user_id=POISONED_USER))

    answers = await asyncio.gather(*(hold(stack, event, token) for token in tokens))

    assert [answer.status_code for answer in answers[:-1]] == [201] * (FANS - 1)
    poisoned = answers[-1]
    assert (poisoned.status_code, error_code(poisoned)) == (401, "UNAUTHENTICATED")
    owner = await asyncpg.connect(stack.parts.database_url)
    try:
        held = await owner.fetchval(
            "SELECT count(*) FROM holds WHERE event_id = $1 AND status = 'active'",
            uuid.UUID(event.event_id),
        )
    finally:
        await owner.close()
    assert held == FANS - 1
