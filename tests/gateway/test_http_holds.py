"""Holds and event reads over HTTP: every shape and error code, idempotent replay, owner fences,
and the races: 60 fans for 200 units sell exactly 200, two fans for one pair of seats, one wins."""

import asyncio
import uuid

import httpx
import pytest

from tests.gateway.http_journeys import CreatedEvent, create_event, error_code, general_items
from tests.gateway.stack import Stack

pytestmark = pytest.mark.usefixtures("stack")


async def hold(fan: httpx.AsyncClient, event: CreatedEvent, body: object, **headers: str):
    return await fan.post(f"/v1/events/{event.event_id}/holds", json=body, headers=headers)


async def test_event_shows_its_ticket_types_and_availability(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=30, seat_rows=1)
    async with stack.client(stack.token()) as fan:
        answer = await fan.get(f"/v1/events/{event.event_id}")
        unknown = await fan.get(f"/v1/events/{uuid.uuid4()}")
        malformed = await fan.get("/v1/events/not-an-id")

    body = answer.json()
    assert set(body) == {
        "event_id",
        "name",
        "starts_at",
        "status",
        "currency",
        "onsale",
        "ticket_types",
        "refund_until",
    }
    assert body["status"] == "on_sale" and body["refund_until"] is None
    assert body["onsale"]["waiting_room"] == {
        "enabled": False,
        "requires_code": False,
    }
    assert [(row["key"], row["available"]) for row in body["ticket_types"]] == [
        ("GA", 30),
        ("RES", 10),
    ]
    assert (unknown.status_code, error_code(unknown)) == (404, "NOT_FOUND")
    assert (malformed.status_code, error_code(malformed)) == (404, "NOT_FOUND")


async def test_general_hold_is_placed_read_back_and_released(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=10)
    async with stack.client(stack.token()) as fan:
        placed = await hold(fan, event, general_items(event, 2))
        hold_id = placed.json()["hold_id"]
        read = await fan.get(f"/v1/holds/{hold_id}")
        released = await fan.delete(f"/v1/holds/{hold_id}")
        again = await fan.delete(f"/v1/holds/{hold_id}")
        after = await fan.get(f"/v1/holds/{hold_id}")
        all_ten = await hold(fan, event, general_items(event, 6))

    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["status"] == "active" and body["event_id"] == event.event_id
    assert body["items"] == [
        {"ticket_type_id": event.general, "quantity": 2, "unit_price_cents": 5_000}
    ]
    assert body["seats"] == [] and body["subtotal_cents"] == 10_000
    assert body["expires_at"].endswith("Z")
    assert read.json() == body
    assert released.status_code == 204 and again.status_code == 204
    assert after.json()["status"] == "released"
    assert all_ten.status_code == 201


async def test_named_and_best_available_seats_are_held_and_shown_on_the_seat_map(
    stack: Stack,
) -> None:
    event = await create_event(stack, seat_rows=2, seats_per_row=10)
    async with stack.client(stack.token()) as fan:
        named = await hold(fan, event, {"seats": ["101-A-7", "101-A-8"]})
        best = await hold(
            fan,
            event,
            {"best_available": {"ticket_type_id": event.reserved, "quantity": 4, "section": "101"}},
        )
        await asyncio.sleep(1.1)
        seatmap = await fan.get(f"/v1/events/{event.event_id}/seatmap")

    assert named.status_code == 201 and named.json()["seats"] == ["101-A-7", "101-A-8"]
    assert best.status_code == 201 and len(best.json()["seats"]) == 4
    assert best.json()["subtotal_cents"] == 4 * 8_000
    rows = seatmap.json()["sections"][0]["rows"]
    unavailable = {
        f"101-{row['id']}-{seat['n']}"
        for row in rows
        for seat in row["seats"]
        if seat["status"] == "unavailable"
    }
    assert unavailable == {*named.json()["seats"], *best.json()["seats"]}


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"items": [{"ticket_type_id": "GA", "quantity": 1}]}, "VALIDATION_ERROR", 422),
        ({"seats": ["101-Z-99"]}, "VALIDATION_ERROR", 422),
        ({"items": [], "seats": ["101-A-1"]}, "VALIDATION_ERROR", 422),
        ({}, "VALIDATION_ERROR", 422),
        ({"seats": ["101-A-1"], "extra": 1}, "VALIDATION_ERROR", 422),
        ({"items": [{"ticket_type_id": "x", "quantity": 0}]}, "VALIDATION_ERROR", 422),
    ],
)
async def test_bad_hold_requests_are_refused_with_their_code(
    stack: Stack, body: object, code: str, status: int
) -> None:
    event = await create_event(stack)
    async with stack.client(stack.token()) as fan:
        answer = await hold(fan, event, body)
    assert (answer.status_code, error_code(answer)) == (status, code), answer.text


async def test_sold_out_limit_and_taken_seats_are_refused_with_their_codes(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=8, max_tickets_per_user=6)
    async with (
        stack.client(stack.token()) as first,
        stack.client(stack.token()) as second,
        stack.client(stack.token()) as third,
    ):
        over_limit = await hold(first, event, general_items(event, 7))
        six = await hold(first, event, general_items(event, 6))
        limit = await hold(first, event, {"seats": ["101-A-1"]})
        sold_out = await hold(second, event, general_items(event, 3))
        seat = await hold(second, event, {"seats": ["101-B-1", "101-B-2"]})
        taken = await hold(third, event, {"seats": ["101-B-2"]})

    assert six.status_code == 201
    assert (over_limit.status_code, error_code(over_limit)) in {
        (409, "LIMIT_EXCEEDED"),
        (422, "VALIDATION_ERROR"),
    }
    assert (limit.status_code, error_code(limit)) == (409, "LIMIT_EXCEEDED")
    assert (sold_out.status_code, error_code(sold_out)) == (409, "SOLD_OUT")
    assert seat.status_code == 201
    assert (taken.status_code, error_code(taken)) == (409, "SEAT_UNAVAILABLE")
    assert taken.json()["error"]["details"]["seats"] == ["101-B-2"]


async def test_hold_is_replayed_byte_for_byte_and_a_changed_body_conflicts(stack: Stack) -> None:
    event = await create_event(stack)
    key = {"Idempotency-Key": f"hold-{uuid.uuid4()}"}
    async with stack.client(stack.token()) as fan:
        first = await hold(fan, event, general_items(event, 2), **key)
        again = await hold(fan, event, general_items(event, 2), **key)
        changed = await hold(fan, event, general_items(event, 3), **key)
        bad_key = await hold(fan, event, general_items(event, 1), **{"Idempotency-Key": "a b"})
    async with event.venue() as venue:
        await asyncio.sleep(1.1)
        stats = (await venue.get(f"/v1/venue/events/{event.event_id}/stats")).json()

    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert (changed.status_code, error_code(changed)) == (409, "IDEMPOTENCY_CONFLICT")
    assert (bad_key.status_code, error_code(bad_key)) == (422, "VALIDATION_ERROR")
    assert stats["held"] == 2


async def test_another_fans_hold_is_not_found(stack: Stack) -> None:
    event = await create_event(stack)
    async with stack.client(stack.token()) as owner, stack.client(stack.token()) as other:
        placed = await hold(owner, event, general_items(event, 1))
        hold_id = placed.json()["hold_id"]
        read = await other.get(f"/v1/holds/{hold_id}")
        deleted = await other.delete(f"/v1/holds/{hold_id}")
        unknown = await owner.get(f"/v1/holds/{uuid.uuid4()}")
        still = await owner.get(f"/v1/holds/{hold_id}")

    assert [(a.status_code, error_code(a)) for a in (read, deleted, unknown)] == [
        (404, "NOT_FOUND")
    ] * 3
    assert still.json()["status"] == "active"


async def test_sixty_fans_racing_for_two_hundred_units_sell_exactly_two_hundred(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=200, seat_rows=0, max_tickets_per_user=6)
    fans = [stack.client(stack.token()) for _ in range(60)]

    async def buy(fan: httpx.AsyncClient) -> int:
        held = 0
        while True:
            answer = await hold(fan, event, general_items(event, 2))
            if answer.status_code == 201:
                held += 2
                continue
            assert error_code(answer) in {"SOLD_OUT", "LIMIT_EXCEEDED"}, answer.text
            return held

    try:
        held = await asyncio.gather(*(buy(fan) for fan in fans))
    finally:
        for fan in fans:
            await fan.aclose()
    async with event.venue() as venue:
        await asyncio.sleep(1.1)
        stats = (await venue.get(f"/v1/venue/events/{event.event_id}/stats")).json()

    assert sum(held) == 200
    assert max(held) <= 6
    assert (stats["held"], stats["available"]) == (200, 0)


async def test_two_fans_racing_for_the_same_seats_leave_exactly_one_winner(stack: Stack) -> None:
    event = await create_event(stack, seat_rows=1)
    seats = {"seats": ["101-A-4", "101-A-5"]}
    async with stack.client(stack.token()) as first, stack.client(stack.token()) as second:
        answers = await asyncio.gather(hold(first, event, seats), hold(second, event, seats))

    assert sorted(answer.status_code for answer in answers) == [201, 409]
    loser = next(answer for answer in answers if answer.status_code == 409)
    assert error_code(loser) == "SEAT_UNAVAILABLE"
