"""Accessible and companion seats over real HTTP: marked at creation (numbers of their row), shown
on the fan's seat map, never given by best available unless it asks for accessible seats (then
first), open to a named-seat hold, and sold as ordinary seats from `onsale.accessible_release_h`
hours before the show, a setting the venue may change by PATCH."""

import uuid
from typing import Any

import pytest

from tests.gateway.http_journeys import (
    CREATED_EVENT_IDS,
    VENUE_ROLES,
    CreatedEvent,
    Fan,
    error_code,
)
from tests.gateway.stack import Stack, event_body
from tests.gateway.stock_journeys import seat_marks

pytestmark = pytest.mark.usefixtures("stack")
# The stack's events start in 30 days: a release 31 days before the show has already passed.
RELEASED_ALREADY_H = 31 * 24


def marked_body(**onsale: Any) -> dict[str, Any]:
    """One row of six seats: 3 and 4 accessible, 5 companion."""
    body = event_body(seat_rows=1, seats_per_row=6)
    body["seatmap"]["sections"][0]["rows"][0] |= {"accessible": [3, 4], "companion": [5]}
    body["onsale"] |= onsale
    return body


async def created(stack: Stack, body: dict[str, Any]) -> CreatedEvent:
    token = stack.token(roles=VENUE_ROLES)
    async with stack.client(token) as client:
        answer = await client.post("/v1/venue/events", json=body)
    assert answer.status_code == 201, answer.text
    CREATED_EVENT_IDS.append(answer.json()["event_id"])
    return CreatedEvent(stack, token, answer.json())


async def best_seats(fan: Fan, quantity: int, **options: Any) -> Any:
    """A best-available hold under a key of its own, so a slow actor start is retried."""
    body = {"best_available": {"ticket_type_id": fan.event.reserved, "quantity": quantity}}
    body["best_available"] |= options
    async with fan.stack.client(fan.token, **{"Idempotency-Key": uuid.uuid4().hex}) as client:
        return await client.post(f"/v1/events/{fan.event.event_id}/holds", json=body)


async def test_marked_seats_are_shown_and_kept_for_fans_who_ask_for_them(stack: Stack) -> None:
    event = await created(stack, marked_body(accessible_release_h=2))
    fan = Fan(stack, event)
    marks = await seat_marks(event, fan.token)
    assert marks["101-A-3"] == {"n": 3, "status": "available", "accessible": True}
    assert marks["101-A-5"] == {"n": 5, "status": "available", "companion": True}
    assert marks["101-A-1"] == {"n": 1, "status": "available"}

    ordinary = await best_seats(fan, 2)
    assert ordinary.status_code == 201, ordinary.text
    assert ordinary.json()["seats"] == ["101-A-1", "101-A-2"]
    assert error_code(await best_seats(Fan(stack, event), 2, contiguous=False)) == "SOLD_OUT"
    accessible = await best_seats(Fan(stack, event), 2, accessible=True)
    assert accessible.status_code == 201, accessible.text
    assert accessible.json()["seats"] == ["101-A-3", "101-A-4"]
    async with Fan(stack, event).client() as client:
        named = await client.post(f"/v1/events/{event.event_id}/holds", json={"seats": ["101-A-5"]})
    assert named.status_code == 201, named.text
    assert (await seat_marks(event, fan.token))["101-A-5"] == {
        "n": 5,
        "status": "unavailable",
        "companion": True,
    }


async def test_marked_seats_sell_as_ordinary_once_released_and_the_venue_may_change_when(
    stack: Stack,
) -> None:
    event = await created(stack, marked_body(accessible_release_h=RELEASED_ALREADY_H))
    async with event.venue() as venue:
        shown = (await venue.get(f"/v1/venue/events/{event.event_id}")).json()
    assert shown["onsale"]["accessible_release_h"] == RELEASED_ALREADY_H
    buyer = Fan(stack, event)
    released = await best_seats(buyer, 6)
    assert released.status_code == 201, released.text
    assert released.json()["seats"] == [f"101-A-{n}" for n in range(1, 7)]

    async with event.venue() as venue:
        patched = await venue.patch(
            f"/v1/venue/events/{event.event_id}", json={"onsale": {"accessible_release_h": None}}
        )
    assert patched.status_code == 200, patched.text
    assert patched.json()["onsale"]["accessible_release_h"] is None
    async with buyer.client() as client:
        returned = await client.delete(f"/v1/holds/{released.json()['hold_id']}")
    assert returned.status_code == 204, returned.text
    # Kept again: seats 1, 2 and 6 are ordinary, and no three of them sit side by side.
    assert error_code(await best_seats(Fan(stack, event), 3)) == "SOLD_OUT"
    accessible = await best_seats(Fan(stack, event), 3, accessible=True)
    assert accessible.json()["seats"] == ["101-A-3", "101-A-4", "101-A-5"]
    async with event.venue() as venue:
        again = await venue.patch(
            f"/v1/venue/events/{event.event_id}", json={"onsale": {"accessible_release_h": 1}}
        )
    assert again.json()["onsale"]["accessible_release_h"] == 1


@pytest.mark.parametrize(
    ("row", "onsale", "field"),
    [
        ({"accessible": [7]}, {}, "seatmap.sections[0].rows[0].accessible"),
        ({"companion": [0]}, {}, "seatmap.sections[0].rows[0].companion[0]"),
        ({"accessible": [2], "companion": [2]}, {}, "seatmap.sections[0].rows[0].companion"),
        ({"accessible": [1, 1]}, {}, "seatmap.sections[0].rows[0].accessible"),
        ({}, {"accessible_release_h": -1}, "onsale.accessible_release_h"),
    ],
)
async def test_marked_seats_and_their_release_are_checked_at_creation(
    stack: Stack, row: dict[str, Any], onsale: dict[str, Any], field: str
) -> None:
    body = event_body(seat_rows=1, seats_per_row=6)
    body["seatmap"]["sections"][0]["rows"][0] |= row
    body["onsale"] |= onsale
    async with stack.client(stack.token(roles=VENUE_ROLES)) as client:
        answer = await client.post("/v1/venue/events", json=body)
    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert answer.json()["error"]["details"].get("field") == field, answer.text


async def test_a_patched_release_is_checked(stack: Stack) -> None:
    event = await created(stack, marked_body())
    async with event.venue() as venue:
        answer = await venue.patch(
            f"/v1/venue/events/{event.event_id}",
            json={"onsale": {"accessible_release_h": 100_000}},
        )
    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert answer.json()["error"]["details"]["field"] == "onsale.accessible_release_h"
