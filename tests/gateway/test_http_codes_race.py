"""Two thousand fans race over HTTP to hold with one code capped at 100 uses, while a sampler
reads Postgres: at no sampled instant are more than 100 uses live or paid, counted both by the
code's row and from the holds and orders themselves. Some holders release (their uses go to
fans of a second wave), the rest pay: exactly 100 paid uses at the end. Then the same with the
event's InventoryActor killed mid-race and rebuilt from Postgres."""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
import ray

from actors.names import NAMESPACE, inventory_actor_name
from gateway.auth import Role
from tests.gateway.code_journeys import made_code
from tests.gateway.http_journeys import CREATED_EVENT_IDS, VISA, CreatedEvent, Fan
from tests.gateway.stack import Stack, event_body

pytestmark = pytest.mark.usefixtures("stack")

MAX_USES = 100
FIRST_WAVE = 2_000
SECOND_WAVE = 200
RELEASE_EVERY = 4
CONNECTIONS = 64
ATTEMPTS = 40
RETRY_PAUSE_S = 0.25
SAMPLE_INTERVAL_S = 0.02
KILL_AFTER_S = 1.0
LOOKUPS = 40

USES_BY_ROW = "SELECT uses, held FROM codes WHERE id = $1"
USES_COUNTED = """
SELECT (SELECT count(*) FROM holds WHERE code_id = $1 AND status = 'active') AS held,
       (SELECT count(*) FROM sales JOIN holds ON holds.id = sales.hold_id
        WHERE holds.code_id = $1 AND sales.status = 'live') AS paid
"""


class Race:
    """The fans' requests through one pooled client, each with its own token, sent again after
    a 503 with the same Idempotency-Key, as a fan's app would."""

    def __init__(self, stack: Stack, event: CreatedEvent) -> None:
        self.stack = stack
        self.event = event
        self.client = httpx.AsyncClient(
            base_url=stack.base_url,
            timeout=120.0,
            limits=httpx.Limits(max_connections=CONNECTIONS),
        )

    async def send(
        self, fan: Fan, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {fan.token}", "Idempotency-Key": str(uuid.uuid4())}
        for _ in range(ATTEMPTS):
            answer = await self.client.request(method, path, json=body, headers=headers)
            if answer.status_code != 503:
                return answer
            await asyncio.sleep(RETRY_PAUSE_S)
        return answer

    async def try_hold(self, fan: Fan) -> str | None:
        body = {"items": [{"ticket_type_id": self.event.general, "quantity": 1}], "code": "race"}
        answer = await self.send(fan, "POST", f"/v1/events/{self.event.event_id}/holds", body)
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "CODE_EXHAUSTED", answer.text
            return None
        assert answer.status_code == 201, answer.text
        hold_id: str = answer.json()["hold_id"]
        return hold_id

    async def release(self, fan: Fan, hold_id: str) -> None:
        answer = await self.send(fan, "DELETE", f"/v1/holds/{hold_id}")
        assert answer.status_code == 204, answer.text

    async def pay(self, fan: Fan, hold_id: str) -> None:
        checkout = await self.send(fan, "POST", f"/v1/holds/{hold_id}/checkout")
        assert checkout.status_code == 201, checkout.text
        order_id = checkout.json()["order_id"]
        paid = await self.send(fan, "POST", f"/v1/dev/orders/{order_id}/pay", {"card": VISA})
        assert paid.status_code == 200, paid.text

    async def wave(self, count: int, settle: Callable[[int, Fan, str], Awaitable[None]]) -> int:
        """`count` fans try to hold at once; each who got a hold settles it. How many held."""

        async def one(number: int) -> bool:
            fan = Fan(self.stack, self.event)
            hold_id = await self.try_hold(fan)
            if hold_id is not None:
                await settle(number, fan, hold_id)
            return hold_id is not None

        return sum(await asyncio.gather(*(one(number) for number in range(count))))


class Sampler:
    """Reads the code's uses from Postgres until stopped, keeping the most seen at once."""

    def __init__(self, database_url: str, code_id: uuid.UUID) -> None:
        self.database_url = database_url
        self.code_id = code_id
        self.most_by_row = 0
        self.most_counted = 0
        self.samples = 0
        self.stopped = asyncio.Event()
        self.connection: asyncpg.Connection

    async def connect(self) -> None:
        self.connection = await asyncpg.connect(self.database_url)

    async def run(self) -> None:
        connection = self.connection
        try:
            while not self.stopped.is_set():
                async with connection.transaction(isolation="repeatable_read"):
                    row = await connection.fetchrow(USES_BY_ROW, self.code_id)
                    counted = await connection.fetchrow(USES_COUNTED, self.code_id)
                assert row is not None and counted is not None
                self.most_by_row = max(self.most_by_row, row["uses"] + row["held"])
                self.most_counted = max(self.most_counted, counted["held"] + counted["paid"])
                assert (row["uses"], row["held"]) == (counted["paid"], counted["held"])
                self.samples += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopped.wait(), SAMPLE_INTERVAL_S)
        finally:
            await connection.close()


async def kill_inventory_actor(event: CreatedEvent) -> None:
    """The event's InventoryActor killed mid-race; Ray starts it again, rebuilt from Postgres.
    Ray's calls block, so they run off the event loop the fans' requests share."""
    await asyncio.sleep(KILL_AFTER_S)
    name = inventory_actor_name(event.event_id)
    for _ in range(LOOKUPS):
        try:
            actor = await asyncio.to_thread(ray.get_actor, name, NAMESPACE)
            break
        except ValueError:
            await asyncio.sleep(RETRY_PAUSE_S)
    else:
        raise AssertionError(f"{name} was not found to be killed")
    await asyncio.to_thread(ray.kill, actor, no_restart=False)


@pytest.mark.parametrize("kill", [False, True], ids=["steady", "actor_killed"])
async def test_a_code_capped_at_100_uses_is_never_over_used_by_2000_racing_fans(
    stack: Stack, kill: bool
) -> None:
    token = stack.token(roles=(Role.VENUE_MANAGER,))
    async with stack.client(token) as client:
        created = await client.post(
            "/v1/venue/events",
            json=event_body(general_capacity=FIRST_WAVE, seat_rows=0, max_tickets_per_user=2),
        )
    assert created.status_code == 201, created.text
    CREATED_EVENT_IDS.append(created.json()["event_id"])
    event = CreatedEvent(stack, token, created.json())
    code = await made_code(event, code="RACE", max_uses=MAX_USES, discount={"percent": 10})
    sampler = Sampler(stack.parts.database_url, uuid.UUID(code["code_id"]))
    race = Race(stack, event)

    async def release_some(number: int, fan: Fan, hold_id: str) -> None:
        if number % RELEASE_EVERY == 0:
            await race.release(fan, hold_id)
        else:
            await race.pay(fan, hold_id)

    async def pay_all(_: int, fan: Fan, hold_id: str) -> None:
        await race.pay(fan, hold_id)

    await sampler.connect()
    sampling = asyncio.create_task(sampler.run())
    killing = asyncio.create_task(kill_inventory_actor(event)) if kill else None
    try:
        first = await race.wave(FIRST_WAVE, release_some)
        second = await race.wave(SECOND_WAVE, pay_all)
    finally:
        sampler.stopped.set()
        await sampling
        if killing is not None:
            await killing
        await race.client.aclose()

    assert first >= MAX_USES and first + second > MAX_USES
    assert sampler.samples > 10
    assert sampler.most_by_row <= MAX_USES and sampler.most_counted <= MAX_USES
    connection = await asyncpg.connect(stack.parts.database_url)
    try:
        row = await connection.fetchrow(USES_BY_ROW, sampler.code_id)
        counted = await connection.fetchrow(USES_COUNTED, sampler.code_id)
    finally:
        await connection.close()
    assert row is not None and counted is not None
    assert (row["uses"], row["held"]) == (MAX_USES, 0)
    assert (counted["paid"], counted["held"]) == (MAX_USES, 0)
