"""Steps the after-sale HTTP tests share: a venue whose tenant is known, a fan's code (from the
service, or signed here with the ticket's key as the fan's app does offline), a gate's scan, and a
fan's listing walked page by page."""

import base64
import datetime
import uuid
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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

    async def scan(
        self,
        event: CreatedEvent,
        payload: str,
        device_id: str = GATE_DEVICE,
        token: str | None = None,
    ) -> Any:
        """A gate's scan, with the staff's token or the one given (a scanner device's)."""
        async with self.stack.client(token or self.staff_token) as gate:
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


async def code_key_of(fan: Fan, ticket_id: str) -> dict[str, Any]:
    """What the fan's app keeps to show codes offline: the ticket's signing key and its rules."""
    async with fan.client() as client:
        answer = await client.get(f"/v1/tickets/{ticket_id}/code-key")
    assert answer.status_code == 200, answer.text
    key: dict[str, Any] = answer.json()
    return key


def from_base64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def to_base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def code_at(key: dict[str, Any], ticket_id: str, moment: datetime.datetime) -> str:
    """The code the fan's app shows at `moment`, made as any app would from the code key alone:
    Ed25519 over `tq2.<ticket>.<step>`, written in its own lines, not the service's."""
    step = int(moment.timestamp()) // key["qr_step_s"]
    message = f"{key['payload_version']}.{ticket_id}.{step}"
    signature = Ed25519PrivateKey.from_private_bytes(from_base64url(key["signing_key"])).sign(
        message.encode("ascii")
    )
    return f"{message}.{to_base64url(signature)}"


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
