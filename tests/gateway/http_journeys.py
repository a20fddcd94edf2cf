"""Steps the HTTP tests share: a venue creating an event, a fan holding from it, paying for it
and waiting for the tickets' NFTs."""

import asyncio
import uuid
from typing import Any

import httpx

from actors.inventory_client import InventoryClient
from engine.commands import ExpireHolds
from engine.rejections import Reason, Rejected
from gateway.auth import Role
from tests.gateway.stack import Stack, event_body

VENUE_ROLES = (Role.VENUE_MANAGER,)
VISA = "4242424242424242"
MINT_POLLS_MAX = 600
MINT_POLL_INTERVAL_S = 0.1
HOLD_ATTEMPTS_MAX = 5
INVENTORY_START_POLLS_MAX = 12
# Events created by the running test, retired after it so their actors do not pile up.
CREATED_EVENT_IDS: list[str] = []


class CreatedEvent:
    def __init__(self, stack: Stack, token: str, answer: dict[str, Any]) -> None:
        self.stack = stack
        self.venue_token = token
        self.event_id: str = answer["event_id"]
        self.ticket_type_ids = {row["key"]: row["id"] for row in answer["ticket_types"]}

    @property
    def general(self) -> str:
        return self.ticket_type_ids["GA"]

    @property
    def reserved(self) -> str:
        return self.ticket_type_ids["RES"]

    def venue(self) -> httpx.AsyncClient:
        return self.stack.client(self.venue_token)


async def create_event(stack: Stack, token: str | None = None, **body: Any) -> CreatedEvent:
    token = token or stack.token(roles=VENUE_ROLES)
    async with stack.client(token) as client:
        answer = await client.post("/v1/venue/events", json=event_body(**body))
    assert answer.status_code == 201, answer.text
    CREATED_EVENT_IDS.append(answer.json()["event_id"])
    return CreatedEvent(stack, token, answer.json())


def general_items(event: CreatedEvent, quantity: int) -> dict[str, Any]:
    return {"items": [{"ticket_type_id": event.general, "quantity": quantity}]}


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    code: str = body["error"]["code"]
    return code


class Fan:
    def __init__(self, stack: Stack, event: CreatedEvent) -> None:
        self.stack = stack
        self.event = event
        self.user_id = f"fan-{uuid.uuid4().hex[:10]}"
        self.tenant_id = uuid.uuid4()
        self.email = f"{self.user_id}@example.com"
        self.token = stack.token(user_id=self.user_id, tenant_id=self.tenant_id, email=self.email)

    @property
    def caller(self) -> str:
        """Who the fan is to the API: its tenant and its user id."""
        return f"{self.tenant_id}/{self.user_id}"

    def client(self) -> httpx.AsyncClient:
        return self.stack.client(self.token)

    async def hold(self, quantity: int = 2) -> str:
        async with self.stack.client(self.token) as client:
            answer = await client.post(
                f"/v1/events/{self.event.event_id}/holds", json=general_items(self.event, quantity)
            )
        assert answer.status_code == 201, answer.text
        hold_id: str = answer.json()["hold_id"]
        return hold_id

    async def checkout(self, hold_id: str, key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        async with self.stack.client(self.token, **headers) as client:
            answer = await client.post(f"/v1/holds/{hold_id}/checkout")
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def pay(self, order_id: str, card: str = VISA) -> Any:
        async with self.stack.client(self.token) as client:
            return await client.post(f"/v1/dev/orders/{order_id}/pay", json={"card": card})

    async def order(self, order_id: str) -> dict[str, Any]:
        async with self.stack.client(self.token) as client:
            answer = await client.get(f"/v1/orders/{order_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def purchase(self, quantity: int = 1) -> dict[str, Any]:
        """A paid order of `quantity` general-admission tickets, their NFTs still on the way."""
        checkout = await self.checkout(await self.hold(quantity))
        paid = await self.pay(checkout["order_id"])
        assert paid.status_code == 200, paid.text
        order: dict[str, Any] = paid.json()
        return order

    async def buy(self, quantity: int = 1) -> dict[str, Any]:
        """A paid order of `quantity` general-admission tickets, once their NFTs are minted."""
        order = await self.purchase(quantity)
        return await minted_order(self, order["order_id"])


async def minted_order(fan: Fan, order_id: str) -> dict[str, Any]:
    """The order once every ticket's mint has ended, minted or failed."""
    for _ in range(MINT_POLLS_MAX):
        order = await fan.order(order_id)
        if all(ticket["mint"]["status"] != "pending" for ticket in order["tickets"]):
            return order
        await asyncio.sleep(MINT_POLL_INTERVAL_S)
    raise AssertionError(f"the tickets of {order_id} were not minted: {order}")


async def purchase_resent(fan: Fan, quantity: int) -> dict[str, Any]:
    """A paid order; a hold answered 503 (the event's actor starting on a busy machine) is sent
    again with its key, as a fan's app does."""
    key = str(uuid.uuid4())
    async with fan.client() as client:
        for _ in range(HOLD_ATTEMPTS_MAX):
            held = await client.post(
                f"/v1/events/{fan.event.event_id}/holds",
                json=general_items(fan.event, quantity),
                headers={"Idempotency-Key": key},
            )
            if held.status_code != 503:
                break
            await asyncio.sleep(float(held.headers.get("Retry-After", "1")))
    assert held.status_code == 201, held.text
    checkout = await fan.checkout(held.json()["hold_id"])
    paid = await fan.pay(checkout["order_id"])
    assert paid.status_code == 200, paid.text
    order: dict[str, Any] = paid.json()
    return order


async def inventory_started(stack: Stack, event: CreatedEvent) -> None:
    """Wait until the event's InventoryActor answers: on a loaded machine a new actor's process
    may take longer to start than one request waits."""
    client = InventoryClient(event.event_id, stack.parts.database_service_url)
    for _ in range(INVENTORY_START_POLLS_MAX):
        answer = await client.execute(ExpireHolds())
        if not (isinstance(answer, Rejected) and answer.reason is Reason.UNAVAILABLE):
            return
    raise AssertionError(f"the inventory of {event.event_id} never started")
