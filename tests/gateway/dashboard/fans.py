"""Fans of a small simulated sale, over the HTTP API: they queue in the waiting room, hold, check
out and pay with a test card, each step answered before the next begins."""

import asyncio
import time
from typing import Any

import httpx

from tests.gateway.http_journeys import CreatedEvent
from tests.gateway.stack import Stack

VISA = "4242424242424242"
ADMISSION_TIMEOUT_S = 30.0
ADMISSION_POLL_INTERVAL_S = 0.2


class Fan:
    def __init__(self, stack: Stack, event: CreatedEvent) -> None:
        self.stack = stack
        self.event = event
        self.token = stack.token()
        self.queue_id: str | None = None
        self.access_token: str | None = None

    def client(self) -> httpx.AsyncClient:
        headers = {"X-Access-Token": self.access_token} if self.access_token else {}
        return self.stack.client(self.token, **headers)

    async def join_queue(self) -> None:
        async with self.client() as client:
            answer = await client.post(f"/v1/events/{self.event.event_id}/queue")
        assert answer.status_code == 200, answer.text
        self.queue_id = answer.json()["queue_id"]

    async def wait_for_admission(self) -> None:
        deadline = time.monotonic() + ADMISSION_TIMEOUT_S
        path = f"/v1/events/{self.event.event_id}/queue/{self.queue_id}"
        async with self.client() as client:
            while time.monotonic() < deadline:
                answer = await client.get(path)
                if answer.status_code == 200 and answer.json()["state"] == "admitted":
                    self.access_token = answer.json()["access_token"]
                    return
                await asyncio.sleep(ADMISSION_POLL_INTERVAL_S)
        raise AssertionError(f"fan {self.queue_id} was not admitted in {ADMISSION_TIMEOUT_S} s")

    async def try_hold(self, body: dict[str, Any]) -> httpx.Response:
        async with self.client() as client:
            return await client.post(f"/v1/events/{self.event.event_id}/holds", json=body)

    async def hold(self, body: dict[str, Any]) -> str:
        answer = await self.try_hold(body)
        assert answer.status_code == 201, answer.text
        hold_id: str = answer.json()["hold_id"]
        return hold_id

    async def checkout(self, hold_id: str) -> str:
        async with self.client() as client:
            answer = await client.post(f"/v1/holds/{hold_id}/checkout")
        assert answer.status_code == 201, answer.text
        order_id: str = answer.json()["order_id"]
        return order_id

    async def pay(self, order_id: str) -> None:
        async with self.client() as client:
            answer = await client.post(f"/v1/dev/orders/{order_id}/pay", json={"card": VISA})
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "fulfilled", answer.text

    async def buy(self, body: dict[str, Any]) -> None:
        await self.pay(await self.checkout(await self.hold(body)))


async def queue_up(stack: Stack, event: CreatedEvent, *, buyers: int, crowd: int) -> list[Fan]:
    """`buyers` fans who join one after another, then a crowd that queues behind them and stays;
    answered with the buyers once they are all admitted."""
    fans = [Fan(stack, event) for _ in range(buyers)]
    for fan in fans:
        await fan.join_queue()
    await asyncio.gather(*(Fan(stack, event).join_queue() for _ in range(crowd)))
    await asyncio.gather(*(fan.wait_for_admission() for fan in fans))
    return fans
