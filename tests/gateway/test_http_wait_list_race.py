"""Two hundred fans race over HTTP for a sold-out event whose stock comes back while they do: the
holders release, wait-list offers are made, general holds are tried and more fans join. Postgres
shows no unit or seat sold or held twice, nothing held beyond capacity, every offer a live hold of
its own fan, and no entry left waiting that the stock left over would fit."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from tests.gateway.http_journeys import CreatedEvent, Fan, create_event, general_items
from tests.gateway.stack import Stack

pytestmark = pytest.mark.usefixtures("stack")

GENERAL_CAPACITY = 30
SEATS = 20
GENERAL_HOLDERS = 15
SEATED_HOLDERS = 10
EARLY_JOINERS = 60
GENERAL_TRIERS = 90
LATE_JOINERS = 25
UNITS_PER_HOLD = 2
ATTEMPTS = 3

LIVE_UNITS = """
SELECT ticket_types.key, ticket_types.capacity, ticket_types.held_quantity,
       ticket_types.sold_quantity,
       coalesce((SELECT sum(quantity) FROM holds, unnest(item_ticket_type_ids, item_quantities)
                     AS item (ticket_type_id, quantity)
                 WHERE holds.event_id = ticket_types.event_id AND holds.status = 'active'
                   AND item.ticket_type_id = ticket_types.id), 0) AS held_in_holds,
       coalesce((SELECT sum(sale_items.quantity) FROM sale_items JOIN sales USING (order_id)
                 WHERE sale_items.ticket_type_id = ticket_types.id AND sales.status = 'live'), 0)
           AS sold_in_sales
FROM ticket_types WHERE event_id = $1
"""

SEATS_CLAIMED_TWICE = """
SELECT seat_id FROM hold_seats WHERE event_id = $1 AND live GROUP BY seat_id HAVING count(*) > 1
"""

HELD_SEATS_WITHOUT_ONE_CLAIM = """
SELECT seats.label FROM seats
WHERE seats.event_id = $1 AND seats.state = 'held'
  AND (SELECT count(*) FROM hold_seats
       WHERE hold_seats.seat_id = seats.id AND hold_seats.live) <> 1
"""

OFFERS = """
SELECT entries.user_id, entries.quantity, holds.user_id AS holder, holds.status,
       (SELECT sum(quantity) FROM unnest(holds.item_quantities) AS quantity) AS held
FROM wait_list_entries AS entries JOIN holds ON holds.id = entries.hold_id
WHERE entries.event_id = $1 AND entries.status = 'offered'
"""

WAITING = """
SELECT entries.quantity, ticket_types.key
FROM wait_list_entries AS entries LEFT JOIN ticket_types ON ticket_types.id = entries.ticket_type_id
WHERE entries.event_id = $1 AND entries.status = 'waiting'
"""


def keyed() -> dict[str, str]:
    """An Idempotency-Key: a keyed request is retried by the gateway if the actor restarts."""
    return {"Idempotency-Key": str(uuid.uuid4())}


async def answered(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """The answer to `send`, sent again after a 503 as a fan's app would: the machine is shared,
    and a burst of two hundred fans on it may find Postgres's connections all busy for a moment."""
    for _ in range(ATTEMPTS):
        answer = await send()
        if answer.status_code != 503:
            break
    return answer


async def held_by(fan: Fan, body: dict[str, Any]) -> str:
    url, headers = f"/v1/events/{fan.event.event_id}/holds", keyed()
    async with fan.client() as client:
        answer = await answered(lambda: client.post(url, json=body, headers=headers))
    assert answer.status_code == 201, answer.text
    hold_id: str = answer.json()["hold_id"]
    return hold_id


async def release(fan: Fan, hold_id: str) -> None:
    async with fan.client() as client:
        answer = await answered(lambda: client.delete(f"/v1/holds/{hold_id}"))
    assert answer.status_code == 204, answer.text


async def join(fan: Fan, number: int) -> None:
    """Join; a fan's second join after a 503 finds its entry."""
    ticket_type_id = (None, fan.event.general, fan.event.reserved)[number % 3]
    body = {"quantity": 1 + number % UNITS_PER_HOLD, "ticket_type_id": ticket_type_id}
    url = f"/v1/events/{fan.event.event_id}/wait-list"
    async with fan.client() as client:
        answer = await answered(lambda: client.post(url, json=body))
    assert answer.status_code in (200, 201), answer.text


async def try_general_hold(fan: Fan, number: int) -> int:
    event = fan.event
    body = (
        general_items(event, 1)
        if number % 2
        else {"best_available": {"ticket_type_id": event.reserved, "quantity": 1}}
    )
    url, headers = f"/v1/events/{event.event_id}/holds", keyed()
    async with fan.client() as client:
        answer = await answered(lambda: client.post(url, json=body, headers=headers))
    assert answer.status_code in (201, 409), answer.text
    return answer.status_code


def fans(stack: Stack, event: CreatedEvent, count: int) -> list[Fan]:
    return [Fan(stack, event) for _ in range(count)]


async def test_offers_and_general_holds_racing_never_share_a_unit_or_a_seat(stack: Stack) -> None:
    event = await create_event(
        stack,
        general_capacity=GENERAL_CAPACITY,
        seat_rows=1,
        seats_per_row=SEATS,
        wait_list={"enabled": True, "offer_ttl_s": 600},
    )
    general_holders = fans(stack, event, GENERAL_HOLDERS)
    seated_holders = fans(stack, event, SEATED_HOLDERS)
    holds = await asyncio.gather(
        *(held_by(fan, general_items(event, UNITS_PER_HOLD)) for fan in general_holders),
        *(
            held_by(fan, {"seats": [f"101-A-{2 * number + 1}", f"101-A-{2 * number + 2}"]})
            for number, fan in enumerate(seated_holders)
        ),
    )
    await asyncio.gather(
        *(join(fan, number) for number, fan in enumerate(fans(stack, event, EARLY_JOINERS)))
    )

    outcomes = await asyncio.gather(
        *(
            release(fan, hold_id)
            for fan, hold_id in zip([*general_holders, *seated_holders], holds, strict=True)
        ),
        *(
            try_general_hold(fan, number)
            for number, fan in enumerate(fans(stack, event, GENERAL_TRIERS))
        ),
        *(join(fan, number) for number, fan in enumerate(fans(stack, event, LATE_JOINERS))),
    )

    assert {outcome for outcome in outcomes if outcome is not None} <= {201, 409}
    event_id = uuid.UUID(event.event_id)
    connection = await asyncpg.connect(stack.parts.database_url)
    try:
        units = await connection.fetch(LIVE_UNITS, event_id)
        claimed_twice = await connection.fetch(SEATS_CLAIMED_TWICE, event_id)
        unclaimed_held = await connection.fetch(HELD_SEATS_WITHOUT_ONE_CLAIM, event_id)
        offers = await connection.fetch(OFFERS, event_id)
        waiting = await connection.fetch(WAITING, event_id)
    finally:
        await connection.close()

    capacities = {"GA": GENERAL_CAPACITY, "RES": SEATS}
    for row in units:
        assert row["held_quantity"] == row["held_in_holds"], dict(row)
        assert row["sold_quantity"] == row["sold_in_sales"], dict(row)
        assert row["held_quantity"] + row["sold_quantity"] <= capacities[row["key"]], dict(row)
    assert claimed_twice == [] and unclaimed_held == []
    assert offers, "stock that came back was offered to the wait list"
    for offer in offers:
        assert (offer["holder"], offer["status"]) == (offer["user_id"], "active"), dict(offer)
        assert offer["held"] == offer["quantity"], dict(offer)
    available = {
        row["key"]: capacities[row["key"]] - row["held_quantity"] - row["sold_quantity"]
        for row in units
    }
    for entry in waiting:
        keys = [entry["key"]] if entry["key"] is not None else list(available)
        assert all(available[key] < entry["quantity"] for key in keys), (dict(entry), available)
