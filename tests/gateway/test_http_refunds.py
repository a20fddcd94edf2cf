"""Partial refunds over real HTTP, against the session's localstripe, Postgres and Ray: a venue
refunds some tickets of an order (with or without their share of the fees, to the cent), the
rest later; each ticket and each cent goes back once, its seat returns to sale, and the ledger
of the order balances throughout."""

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from engine.pricing import price_order
from gateway.auth import Role
from tests.gateway.http_journeys import CreatedEvent, Fan, create_event, error_code
from tests.gateway.stack import Stack
from tests.gateway.test_http_orders import ledger_of, stripe_client

SEAT_PRICE_CENTS = 8_000
SEATS = ["101-A-1", "101-A-2", "101-A-3", "101-A-4"]
REFUND_DEADLINE_S = 60.0
POLL_INTERVAL_S = 0.2


@pytest.fixture
async def event(stack: Stack) -> CreatedEvent:
    return await create_event(stack, seat_rows=1, seats_per_row=6)


@pytest.fixture
async def owner(stack: Stack) -> Any:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


async def paid_seats(fan: Fan, event: CreatedEvent) -> dict[str, Any]:
    """The fan's four seats, paid; the hold is sent again, with its key, after a 503 (the
    event's inventory starting on a busy machine), as a fan's app does."""
    deadline = time.monotonic() + REFUND_DEADLINE_S
    path = f"/v1/events/{event.event_id}/holds"
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with fan.client() as client:
        while (
            held := await client.post(path, json={"seats": SEATS}, headers=headers)
        ).status_code == 503:
            assert time.monotonic() < deadline, held.text
            await asyncio.sleep(POLL_INTERVAL_S)
    assert held.status_code == 201, held.text
    checkout = await fan.checkout(held.json()["hold_id"])
    paid: dict[str, Any] = (await fan.pay(checkout["order_id"])).json()
    assert paid["status"] == "fulfilled", paid
    return paid


async def refunded(venue: httpx.AsyncClient, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The order once the refund asked for is finished: answered at once (200), or polled for
    after a 202 until its last refund is no longer pending."""
    answer = await venue.post(f"/v1/orders/{order_id}/refund", json=body)
    assert answer.status_code in (200, 202), answer.text
    order: dict[str, Any] = answer.json()
    deadline = time.monotonic() + REFUND_DEADLINE_S
    while any(refund["status"] == "pending" for refund in order["refunds"]):
        assert time.monotonic() < deadline, f"the refund did not finish: {order}"
        await asyncio.sleep(POLL_INTERVAL_S)
        order = (await venue.get(f"/v1/orders/{order_id}")).json()
    return order


async def seat_statuses(stack: Stack, event: CreatedEvent) -> dict[str, str]:
    async with stack.client(stack.token()) as fan:
        seatmap = (await fan.get(f"/v1/events/{event.event_id}/seatmap")).json()
    return {
        f"101-{row['id']}-{seat['n']}": seat["status"]
        for row in seatmap["sections"][0]["rows"]
        for seat in row["seats"]
    }


async def seat_comes_back(stack: Stack, event: CreatedEvent, seat: str) -> dict[str, str]:
    deadline = time.monotonic() + REFUND_DEADLINE_S
    while (statuses := await seat_statuses(stack, event))[seat] != "available":
        assert time.monotonic() < deadline, f"{seat} is still {statuses[seat]}"
        await asyncio.sleep(POLL_INTERVAL_S)
    return statuses


async def test_one_ticket_then_the_rest_go_back_to_the_cent_when_refunded_in_parts(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    order = await paid_seats(fan, event)
    order_id = order["order_id"]
    first, second, *rest = [ticket["ticket_id"] for ticket in order["tickets"]]
    one_with_fees = price_order(SEAT_PRICE_CENTS).total_cents
    whole = price_order(len(SEATS) * SEAT_PRICE_CENTS)

    async with event.venue() as venue:
        after_first = await refunded(
            venue, order_id, {"reason": "one cannot come", "ticket_ids": [first]}
        )
        ledger_after_first = await ledger_of(owner, order_id)
        after_second = await refunded(
            venue,
            order_id,
            {"reason": "fees kept", "ticket_ids": [second], "refund_fees": False},
        )
        after_all = await refunded(venue, order_id, {"reason": "show moved"})

    assert after_first["status"] == "partially_refunded"
    statuses = {ticket["ticket_id"]: ticket["status"] for ticket in after_first["tickets"]}
    assert statuses == {first: "refunded", second: "valid", **dict.fromkeys(rest, "valid")}
    (refund,) = after_first["refunds"]
    assert (refund["status"], refund["amount_cents"], refund["ticket_ids"]) == (
        "succeeded",
        one_with_fees,
        [first],
    )
    assert after_first["refunded_cents"] == one_with_fees
    assert ledger_after_first["venue_balance"] == -(len(SEATS) - 1) * SEAT_PRICE_CENTS
    assert sum(ledger_after_first.values()) == 0
    assert after_second["refunds"][1]["amount_cents"] == SEAT_PRICE_CENTS
    assert after_second["refunded_cents"] == one_with_fees + SEAT_PRICE_CENTS
    assert after_all["status"] == "refunded"
    assert {ticket["status"] for ticket in after_all["tickets"]} == {"refunded"}
    assert after_all["refunded_cents"] == whole.total_cents
    assert set((await ledger_of(owner, order_id)).values()) == {0}
    stripe_refunds = await stripe_client(stack).v1.refunds.list_async(
        params={"payment_intent": await payment_intent_of(owner, order_id)}
    )
    assert sorted(refund.amount for refund in stripe_refunds.data) == sorted(
        refund["amount_cents"] for refund in after_all["refunds"]
    )
    assert (await seat_comes_back(stack, event, SEATS[3]))[SEATS[0]] == "available"


async def payment_intent_of(owner: asyncpg.Connection, order_id: str) -> str:
    payment_intent_id: str = await owner.fetchval(
        "SELECT payment_intent_id FROM payments WHERE order_id = $1", uuid.UUID(order_id)
    )
    return payment_intent_id


async def test_a_refunded_ticket_goes_back_once_when_asked_twice(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    order = await paid_seats(fan, event)
    order_id = order["order_id"]
    ticket_id = order["tickets"][0]["ticket_id"]
    body = {"reason": "asked twice", "ticket_ids": [ticket_id]}

    async with event.venue() as venue:
        once = await refunded(venue, order_id, body)
        twice = await refunded(venue, order_id, body)

    assert once["refunds"] == twice["refunds"] and len(once["refunds"]) == 1
    assert twice["refunded_cents"] == price_order(SEAT_PRICE_CENTS).total_cents
    seats = await seat_comes_back(stack, event, SEATS[0])
    assert [seats[seat] for seat in SEATS[1:]] == ["unavailable"] * 3
    count = await owner.fetchval(
        "SELECT count(*) FROM refund_tickets WHERE ticket_id = $1", uuid.UUID(ticket_id)
    )
    assert count == 1


async def test_a_partial_refund_is_refused_when_its_tickets_or_caller_are_wrong(
    stack: Stack, event: CreatedEvent
) -> None:
    fan = Fan(stack, event)
    order = await paid_seats(fan, event)
    path = f"/v1/orders/{order['order_id']}/refund"
    ticket_id = order["tickets"][0]["ticket_id"]
    other_venue = stack.token(roles=(Role.VENUE_MANAGER,))

    async with event.venue() as venue:
        stranger = await venue.post(path, json={"reason": "x", "ticket_ids": [str(uuid.uuid4())]})
        unreadable = await venue.post(path, json={"reason": "x", "ticket_ids": ["ticket-1"]})
        unknown_field = await venue.post(path, json={"reason": "x", "tickets": [ticket_id]})
        after = (await venue.get(f"/v1/orders/{order['order_id']}")).json()
    async with stack.client(other_venue) as client:
        by_other_tenant = await client.post(path, json={"reason": "x", "ticket_ids": [ticket_id]})
    async with fan.client() as client:
        by_fan = await client.post(path, json={"reason": "x", "ticket_ids": [ticket_id]})

    for refused in (stranger, unreadable, unknown_field):
        assert refused.status_code == 422 and error_code(refused) == "VALIDATION_ERROR"
    assert by_other_tenant.status_code == 404 and error_code(by_other_tenant) == "NOT_FOUND"
    assert by_fan.status_code == 403 and error_code(by_fan) == "FORBIDDEN"
    assert after["status"] == "fulfilled" and after["refunds"] == []
