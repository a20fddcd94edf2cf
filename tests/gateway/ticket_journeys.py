"""Steps the after-sale HTTP tests share: a venue whose tenant is known, a fan's code, a gate's
scan, and a fan's listing walked page by page."""

import uuid
from typing import Any

import asyncpg

from gateway.auth import Role
from tests.gateway.http_journeys import VENUE_ROLES, CreatedEvent, Fan, create_event
from tests.gateway.stack import Stack

GATE_DEVICE = "gate-1"


class Venue:
    """A tenant's venue roles: its manager creates events, its staff scans at the gates."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.tenant_id = uuid.uuid4()
        self.manager_token = stack.token(tenant_id=self.tenant_id, roles=VENUE_ROLES)
        self.staff_token = stack.token(tenant_id=self.tenant_id, roles=(Role.VENUE_STAFF,))

    async def event(self, **body: Any) -> CreatedEvent:
        return await create_event(self.stack, self.manager_token, **body)

    async def scan(self, event: CreatedEvent, payload: str, device_id: str = GATE_DEVICE) -> Any:
        async with self.stack.client(self.staff_token) as gate:
            return await gate.post(
                "/v1/scan",
                json={"event_id": event.event_id, "payload": payload, "device_id": device_id},
            )


async def code_of(fan: Fan, ticket_id: str) -> str:
    """The fan's code for the ticket, as the app shows it now."""
    async with fan.client() as client:
        answer = await client.get(f"/v1/tickets/{ticket_id}/qr")
    assert answer.status_code == 200, answer.text
    payload: str = answer.json()["payload"]
    return payload


async def ticket_of(fan: Fan, ticket_id: str) -> dict[str, Any]:
    async with fan.client() as client:
        answer = await client.get(f"/v1/tickets/{ticket_id}")
    assert answer.status_code == 200, answer.text
    ticket: dict[str, Any] = answer.json()
    return ticket


async def listed_tickets(fan: Fan, **query: str) -> list[dict[str, Any]]:
    """Every ticket the listing shows the fan, walked page by page to the end."""
    tickets: list[dict[str, Any]] = []
    cursor: str | None = None
    async with fan.client() as client:
        while True:
            params = dict(query) | ({"cursor": cursor} if cursor else {})
            answer = await client.get("/v1/me/tickets", params=params)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            tickets.extend(page["tickets"])
            cursor = page["next_cursor"]
            if cursor is None:
                return tickets


async def scans_of(owner: asyncpg.Connection, ticket_id: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await owner.fetch(
        """
        SELECT result, reason, offline FROM ticket_scans
        WHERE ticket_id = $1 ORDER BY recorded_at
        """,
        uuid.UUID(ticket_id),
    )
    return rows
