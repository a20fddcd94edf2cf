"""Steps the service desk's HTTP tests share: a fan whose token names them (the name and email
the desk finds their orders by), a seated purchase, the desk's search walked page by page, and the
emails the SMTP sink holds for an address."""

import asyncio
import email
import email.message
import uuid
from typing import Any

from tests.gateway.http_journeys import CreatedEvent, Fan, general_items
from tests.gateway.stack import Stack

HOLD_ATTEMPTS_MAX = 5
SERVICE_UNAVAILABLE = 503
MAIL_POLLS_MAX = 600
MAIL_POLL_INTERVAL_S = 0.1


class NamedFan(Fan):
    """A fan whose token carries a name and an email (in mixed case, as people type them), and
    whose app sends a hold again, under the same Idempotency-Key, when it meets the event's actor
    starting on a busy machine (UNAVAILABLE), as fans' apps do."""

    def __init__(self, stack: Stack, event: CreatedEvent, name: str) -> None:
        super().__init__(stack, event)
        self.name = name
        self.email = f"{name.replace(' ', '.')}.{uuid.uuid4().hex[:8]}@Example.com"
        self.token = stack.token(
            user_id=self.user_id, tenant_id=self.tenant_id, email=self.email, name=name
        )

    async def held(self, body: dict[str, Any]) -> str:
        """The hold's id; an UNAVAILABLE (nothing changed) is sent again after its Retry-After."""
        key = {"Idempotency-Key": f"hold-{uuid.uuid4()}"}
        async with self.stack.client(self.token, **key) as client:
            for _ in range(HOLD_ATTEMPTS_MAX):
                answer = await client.post(f"/v1/events/{self.event.event_id}/holds", json=body)
                if answer.status_code != SERVICE_UNAVAILABLE:
                    break
                await asyncio.sleep(int(answer.headers["Retry-After"]))
        assert answer.status_code == 201, answer.text
        hold_id: str = answer.json()["hold_id"]
        return hold_id

    async def hold(self, quantity: int = 2) -> str:
        return await self.held(general_items(self.event, quantity))

    async def buy_seat(self, seat: str) -> dict[str, Any]:
        """A paid order of one named seat."""
        checkout = await self.checkout(await self.held({"seats": [seat]}))
        paid = await self.pay(checkout["order_id"])
        assert paid.status_code == 200, paid.text
        order: dict[str, Any] = paid.json()
        return order


async def searched(stack: Stack, token: str, **query: str) -> list[dict[str, Any]]:
    """Every order the desk's search finds, walked page by page to the end."""
    orders: list[dict[str, Any]] = []
    cursor: str | None = None
    async with stack.client(token) as client:
        while True:
            params = dict(query) | ({"cursor": cursor} if cursor else {})
            answer = await client.get("/v1/venue/orders", params=params)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            assert set(page) == {"orders", "next_cursor"}, page
            orders.extend(page["orders"])
            cursor = page["next_cursor"]
            if cursor is None:
                return orders


def emails_to(stack: Stack, recipient: str) -> list[email.message.Message]:
    messages = []
    for path in sorted(stack.outside.mail_directory.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == recipient:
            messages.append(message)
    return messages


async def emails_once_there(
    stack: Stack, recipient: str, count: int
) -> list[email.message.Message]:
    """The emails to `recipient`, once at least `count` have arrived."""
    for _ in range(MAIL_POLLS_MAX):
        messages = emails_to(stack, recipient)
        if len(messages) >= count:
            return messages
        await asyncio.sleep(MAIL_POLL_INTERVAL_S)
    raise AssertionError(
        f"{count} emails to {recipient} did not arrive: {emails_to(stack, recipient)}"
    )
