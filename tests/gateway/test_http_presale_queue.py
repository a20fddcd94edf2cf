"""A presale through the waiting room over HTTP: fans with a valid presale code are admitted, in
join order, before `opens_at`, while fans without one stay in the pre-queue; at `opens_at` the
pre-queue is drawn behind the presale fans still waiting. The venue's stats count the presale
line."""

import asyncio
import datetime
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.gateway.code_journeys import in_minutes, made_code, venue_codes
from tests.gateway.http_journeys import CreatedEvent, Fan, create_event, error_code, general_items
from tests.gateway.queue_codes import (
    STATE_BOUND_S,
    add_code,
    join,
    joined,
    place_when,
    poll,
)
from tests.gateway.stack import Stack

pytestmark = pytest.mark.usefixtures("stack")
OPENS_IN = datetime.timedelta(seconds=25)
# One shopper at a time, so the second presale fan still waits when the room opens.
PRESALE_ROOM = {"enabled": True, "admit_per_second": 50, "max_active_shoppers": 1}
HOLD_ATTEMPTS = 20


async def queue_stats_when(event: CreatedEvent, **expected: int) -> dict[str, Any]:
    """The stats' queue figures once they show every one of `expected`."""
    deadline = time.monotonic() + STATE_BOUND_S
    async with event.venue() as venue:
        while True:
            answer = await venue.get(f"/v1/venue/events/{event.event_id}/stats")
            if answer.status_code == 200:
                queue: dict[str, Any] = answer.json()["queue"]
                if all(queue[field] == value for field, value in expected.items()):
                    return queue
            assert time.monotonic() < deadline, f"the stats never showed {expected}: {answer.text}"
            await asyncio.sleep(0.2)


async def test_presale_fans_are_admitted_before_opens_at_and_the_pre_queue_is_drawn_behind(
    stack: Stack,
) -> None:
    event = await create_event(stack, opens_in=OPENS_IN, waiting_room=PRESALE_ROOM)
    opens_at = time.monotonic() + OPENS_IN.total_seconds()
    database_url = stack.parts.database_url
    await add_code(database_url, event, "FANCLUB")
    await add_code(database_url, event, "PRESS", kind="discount")
    await add_code(database_url, event, "EARLYBIRD", valid_until=datetime.timedelta(seconds=-1))
    plain, first, second, mover, discounted = (Fan(stack, event) for _ in range(5))

    plain_place = await joined(plain)
    first_place = await joined(first, "fanclub")
    admitted = await place_when(first, first_place["queue_id"], state="admitted")
    second_place = await joined(second, "FANCLUB")
    mover_before = await joined(mover)
    mover_after = await joined(mover, "FanClub")
    discounted_place = await joined(discounted, "PRESS")
    unknown = await join(discounted, "NOBODY")
    expired = await join(discounted, "EARLYBIRD")
    presale_stats = await queue_stats_when(event, presale_waiting=2)
    plain_before = await poll(plain, plain_place["queue_id"])
    assert time.monotonic() < opens_at, "the presale steps must run before opens_at"

    assert admitted["access_token"]
    assert plain_place["state"] == "pre_queue" and plain_before["state"] == "pre_queue"
    assert (second_place["state"], second_place["position"]) == ("waiting", 0)
    assert mover_before["state"] == "pre_queue"
    assert mover_after["queue_id"] == mover_before["queue_id"]
    assert (mover_after["state"], mover_after["position"]) == ("waiting", 1)
    assert discounted_place["state"] == "pre_queue"
    assert (unknown.status_code, error_code(unknown)) == (409, "CODE_INVALID")
    assert (expired.status_code, error_code(expired)) == (409, "CODE_INVALID")
    assert presale_stats["pre_queue"] == 2 and presale_stats["waiting"] == 2

    plain_drawn = await place_when(plain, plain_place["queue_id"], state="waiting")
    discounted_drawn = await poll(discounted, discounted_place["queue_id"])
    second_drawn = await poll(second, second_place["queue_id"])
    mover_drawn = await poll(mover, mover_before["queue_id"])

    assert (second_drawn["state"], second_drawn["position"]) == ("waiting", 0)
    assert (mover_drawn["state"], mover_drawn["position"]) == ("waiting", 1)
    assert {plain_drawn["position"], discounted_drawn["position"]} == {2, 3}


async def held_through_the_room(
    fan: Fan, access_token: str, body: dict[str, Any]
) -> httpx.Response:
    """A hold with the room's access token, sent again after a 503 with the same key."""
    headers = {"X-Access-Token": access_token, "Idempotency-Key": str(uuid.uuid4())}
    path = f"/v1/events/{fan.event.event_id}/holds"
    async with fan.client() as client:
        for _ in range(HOLD_ATTEMPTS):
            answer = await client.post(path, json=body, headers=headers)
            if answer.status_code != 503:
                break
    return answer


async def test_a_presale_fan_is_admitted_holds_with_the_code_and_pays_before_opens_at(
    stack: Stack,
) -> None:
    event = await create_event(stack, opens_in=OPENS_IN, waiting_room={"enabled": True})
    opens_at = time.monotonic() + OPENS_IN.total_seconds()
    await made_code(event, code="FanClub", kind="presale", valid_from=in_minutes(-1))
    member, plain = Fan(stack, event), Fan(stack, event)

    place = await joined(member, "FANCLUB")
    admitted = await place_when(member, place["queue_id"], state="admitted")
    plain_place = await joined(plain)
    coded = await held_through_the_room(
        member, admitted["access_token"], {**general_items(event, 2), "code": "fanclub"}
    )
    uncoded = await held_through_the_room(member, admitted["access_token"], general_items(event, 1))
    assert coded.status_code == 201, coded.text
    order = await member.checkout(coded.json()["hold_id"])
    paid = await member.pay(order["order_id"])
    assert time.monotonic() < opens_at, "the presale steps must run before opens_at"

    assert (uncoded.status_code, error_code(uncoded)) == (409, "SALE_NOT_OPEN")
    assert coded.json()["code"] == "fanclub"
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] in ("paid", "fulfilled")
    assert plain_place["state"] == "pre_queue"
    listed = await venue_codes(event)
    assert [(code["uses"], code["held"]) for code in listed["codes"]] == [(1, 0)]
