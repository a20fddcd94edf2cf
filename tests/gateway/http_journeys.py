"""Steps the HTTP tests share: a venue creating an event, a fan holding from it."""

from typing import Any

import httpx

from gateway.auth import Role
from tests.gateway.stack import Stack, event_body

VENUE_ROLES = (Role.VENUE_MANAGER,)
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
