"""An honest sell-out over HTTP: while only holds are left the queue says `"inventory": "held"`
and admits nobody; once nothing is available or held every waiting place, and every new join,
is `sold_out` within 2 s; stock that comes back resumes admission."""

import asyncio
import time
import uuid
from typing import Any

import pytest

from tests.gateway.http_journeys import CreatedEvent, Fan, create_event, general_items
from tests.gateway.stack import Stack

pytestmark = pytest.mark.usefixtures("stack")
SOLD_OUT_BOUND_S = 2.0
STATE_BOUND_S = 30.0
POLL_S = 0.05
WAITING_FANS = 10


async def answered(
    fan: Fan, method: str, path: str, status: int = 200, **request: Any
) -> dict[str, Any]:
    """The answer to the fan's request, retried while it is 503 (an actor still starting on a
    loaded machine) with the same Idempotency-Key, as a fan's app does."""
    deadline = time.monotonic() + STATE_BOUND_S
    headers = {"Idempotency-Key": uuid.uuid4().hex, **request.pop("headers", {})}
    async with fan.client() as client:
        answer = await client.request(method, path, headers=headers, **request)
        while answer.status_code == 503 and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            answer = await client.request(method, path, headers=headers, **request)
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def join(fan: Fan) -> dict[str, Any]:
    return await answered(fan, "POST", f"/v1/events/{fan.event.event_id}/queue")


async def poll(fan: Fan, queue_id: str) -> dict[str, Any]:
    return await answered(fan, "GET", f"/v1/events/{fan.event.event_id}/queue/{queue_id}")


async def place_when(fan: Fan, queue_id: str, **expected: object) -> dict[str, Any]:
    """The fan's place once it shows every field of `expected`."""
    deadline = time.monotonic() + STATE_BOUND_S
    while time.monotonic() < deadline:
        place = await poll(fan, queue_id)
        if all(place[field] == value for field, value in expected.items()):
            return place
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"the place never showed {expected}: {place}")


async def hold(event: CreatedEvent, fan: Fan, quantity: int, access_token: str = "") -> str:
    held = await answered(
        fan,
        "POST",
        f"/v1/events/{event.event_id}/holds",
        201,
        json=general_items(event, quantity),
        headers={"X-Access-Token": access_token} if access_token else {},
    )
    hold_id: str = held["hold_id"]
    return hold_id


async def queued_event(
    stack: Stack, wait_list: dict[str, Any] | None = None
) -> tuple[CreatedEvent, Fan, str, list[tuple[Fan, str]]]:
    """An event of two tickets whose first fan was admitted and holds both, and the fans queued
    behind it (with their queue ids), who joined once the queue said only holds are left."""
    event = await create_event(
        stack,
        general_capacity=2,
        seat_rows=0,
        waiting_room={"enabled": True, "admit_per_second": 50, "max_active_shoppers": 100},
        wait_list=wait_list,
    )
    buyer = Fan(stack, event)
    admitted = await place_when(buyer, (await join(buyer))["queue_id"], state="admitted")
    hold_id = await hold(event, buyer, 2, admitted["access_token"])
    await place_when(buyer, admitted["queue_id"], inventory="held")
    queued = [Fan(stack, event) for _ in range(WAITING_FANS)]
    places = [(fan, (await join(fan))["queue_id"]) for fan in queued]
    for fan, queue_id in places:
        await place_when(fan, queue_id, inventory="held")
    return event, buyer, hold_id, places


async def test_waiting_places_show_held_inventory_and_wait_while_only_holds_are_left(
    stack: Stack,
) -> None:
    _, _, _, places = await queued_event(stack)
    await asyncio.sleep(2 * SOLD_OUT_BOUND_S)

    shown = [await poll(fan, queue_id) for fan, queue_id in places]

    assert {(place["state"], place["inventory"]) for place in shown} == {("waiting", "held")}
    assert sorted(place["position"] for place in shown) == list(range(WAITING_FANS))


async def test_every_waiting_place_is_sold_out_within_two_seconds_of_the_sell_out(
    stack: Stack,
) -> None:
    event, buyer, hold_id, places = await queued_event(
        stack, wait_list={"enabled": True, "offer_ttl_s": 60}
    )
    order = await buyer.checkout(hold_id)
    paid = await buyer.pay(order["order_id"])
    assert paid.status_code == 200, paid.text
    sold_out_at = time.monotonic()

    told_after_s = []
    for fan, queue_id in places:
        place = await place_when(fan, queue_id, state="sold_out")
        told_after_s.append(time.monotonic() - sold_out_at)
        assert (place["position"], place["eta_s"], place["access_token"]) == (None, None, None)
        assert place["wait_list"] is True
    print(
        f"{WAITING_FANS} waiting places told sold_out within {max(told_after_s):.2f} s of the "
        "sell-out"
    )
    late = Fan(stack, event)
    joined_late = await join(late)
    async with event.venue() as venue:
        stats = (await venue.get(f"/v1/venue/events/{event.event_id}/stats")).json()

    assert max(told_after_s) <= SOLD_OUT_BOUND_S
    assert (joined_late["state"], joined_late["inventory"]) == ("sold_out", "sold_out")
    assert stats["status"] == "sold_out"
    assert (stats["queue"]["waiting"], stats["queue"]["sold_out"]) == (0, WAITING_FANS + 1)


async def test_waiting_fans_are_admitted_again_when_the_last_hold_is_released(
    stack: Stack,
) -> None:
    _, buyer, hold_id, places = await queued_event(stack)
    async with buyer.client() as client:
        released = await client.delete(f"/v1/holds/{hold_id}")
    assert released.status_code == 204, released.text

    admitted = [await place_when(fan, queue_id, state="admitted") for fan, queue_id in places]

    assert {place["inventory"] for place in admitted} == {"available"}


async def test_a_join_without_a_waiting_room_is_sold_out_with_no_token_after_the_sell_out(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=1, seat_rows=0)
    buyer = Fan(stack, event)
    order = await buyer.checkout(await hold(event, buyer, 1))
    assert (await buyer.pay(order["order_id"])).status_code == 200
    late = Fan(stack, event)
    deadline = time.monotonic() + STATE_BOUND_S
    place = await join(late)
    while place["state"] != "sold_out" and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        place = await join(late)

    assert (place["state"], place["access_token"], place["inventory"], place["wait_list"]) == (
        "sold_out",
        None,
        "sold_out",
        False,
    )
