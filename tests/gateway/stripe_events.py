"""Stripe's events as the session's embedded Stripe made them, signed and posted to our webhook.

The session's Stripe has no webhook endpoint registered (its deliveries are lost), so a test
reads the event Stripe recorded and delivers it itself: as often, as late and in whatever order
the test needs, or with a forged signature.
"""

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import asyncpg
import httpx
import stripe

from tests.gateway.code_journeys import sent
from tests.gateway.http_journeys import Fan, general_items
from tests.gateway.stack import Stack

EVENTS_PAGE_SIZE = 100


def stripe_client(stack: Stack) -> stripe.StripeClient:
    return stripe.StripeClient(
        stack.parts.stripe_api_key,
        base_addresses={"api": stack.parts.stripe_api_base},
        http_client=stripe.HTTPXClient(),
        max_network_retries=0,
    )


async def recorded_events(stack: Stack, event_type: str, object_id: str) -> list[dict[str, Any]]:
    """Every event of `event_type` Stripe recorded about `object_id`, oldest first."""
    page = await stripe_client(stack).v1.events.list_async(
        params={"type": event_type, "limit": EVENTS_PAGE_SIZE}
    )
    found = []
    async for event in page.auto_paging_iter():
        fields: dict[str, Any] = event.to_dict()
        if fields["data"]["object"]["id"] == object_id:
            found.append(fields)
    return sorted(found, key=lambda fields: int(fields["created"]))


def signed(stack: Stack, event: dict[str, Any], secret: str | None = None) -> tuple[bytes, str]:
    created = int(time.time())
    payload = json.dumps(event).encode()
    key = (secret or stack.parts.stripe_webhook_secret).encode()
    signature = hmac.new(key, f"{created}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={created},v1={signature}"


async def deliver(stack: Stack, event: dict[str, Any], secret: str | None = None) -> httpx.Response:
    payload, signature = signed(stack, event, secret)
    async with stack.client() as client:
        return await client.post(
            "/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )


async def ledger_of(owner: asyncpg.Connection, order_id: str) -> dict[str, int]:
    """The order's net on each account it moved, debits counting up."""
    rows = await owner.fetch(
        """
        SELECT account,
               sum(CASE direction WHEN 'debit' THEN amount_cents ELSE -amount_cents END) AS net
        FROM ledger_entries WHERE order_id = $1 GROUP BY account
        """,
        uuid.UUID(order_id),
    )
    return {row["account"]: row["net"] for row in rows if row["net"]}


async def ticket_statuses(owner: asyncpg.Connection, order_id: str) -> list[str]:
    rows = await owner.fetch(
        "SELECT status FROM tickets WHERE order_id = $1 ORDER BY id", uuid.UUID(order_id)
    )
    return [row["status"] for row in rows]


async def held(fan: Fan, quantity: int) -> str:
    """A hold of general tickets, sent again with the same Idempotency-Key after a 503 (the
    event's InventoryActor starting on a busy machine), as a fan's app does."""
    async with fan.client() as client:
        answer = await sent(
            client,
            "POST",
            f"/v1/events/{fan.event.event_id}/holds",
            general_items(fan.event, quantity),
        )
    assert answer.status_code == 201, answer.text
    hold_id: str = answer.json()["hold_id"]
    return hold_id
