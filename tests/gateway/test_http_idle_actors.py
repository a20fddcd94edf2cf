"""An event's actors live only while it is busy, over real HTTP: reading two hundred events (the
listing, each event, its stats, its seat map) starts no actor, an event touched by a write gets
its actor, which retires once idle, and the event then serves again on demand."""

import asyncio
import secrets
import uuid

import pytest
import ray

from actors.names import NAMESPACE, inventory_actor_name, waiting_room_actor_name
from actors.supervisor import Supervisor
from tests.gateway.http_journeys import CreatedEvent, Fan, general_items
from tests.gateway.stack import Stack
from tests.gateway.ticket_journeys import Venue

pytestmark = pytest.mark.usefixtures("stack")
EVENTS = 200
WRITTEN_TO = 3
IDLE_RETIRE_S = 1.0
# An actor busy with its expiry sweep at the instant it is asked stays until the next round.
ROUNDS_MAX = 10
GENERAL_CAPACITY = 10
SEATS_PER_ROW = 10


def running(events: list[CreatedEvent]) -> list[str]:
    """The per-event actors of `events` alive in the cluster."""
    names = {
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == NAMESPACE
    }
    return sorted(
        name
        for event in events
        for name in (inventory_actor_name(event.event_id), waiting_room_actor_name(event.event_id))
        if name in names
    )


async def test_reads_start_no_actor_and_an_idle_event_serves_again_on_demand(
    stack: Stack,
) -> None:
    venue = Venue(stack)
    events = [
        await venue.event(
            general_capacity=GENERAL_CAPACITY, seat_rows=1, seats_per_row=SEATS_PER_ROW
        )
        for _ in range(EVENTS)
    ]
    async with stack.client(venue.manager_token) as manager:
        listing = await manager.get("/v1/venue/events")
        stats = [await manager.get(f"/v1/venue/events/{event.event_id}/stats") for event in events]
    async with stack.client(stack.token()) as fan:
        pages = [await fan.get(f"/v1/events/{event.event_id}") for event in events]
        seat_maps = [await fan.get(f"/v1/events/{event.event_id}/seatmap") for event in events]

    assert listing.status_code == 200 and len(listing.json()["events"]) == EVENTS
    assert {answer.status_code for answer in stats + pages + seat_maps} == {200}
    assert {answer.json()["available"] for answer in stats} == {GENERAL_CAPACITY + SEATS_PER_ROW}
    assert running(events) == []

    written = events[:WRITTEN_TO]
    for event in written:
        fan = Fan(stack, event)
        hold_id = await fan.hold(1)
        async with fan.client() as client:
            assert (await client.delete(f"/v1/holds/{hold_id}")).status_code == 204
    assert running(events) == sorted(inventory_actor_name(event.event_id) for event in written)
    supervisor = Supervisor(
        database_url=stack.parts.database_service_url,
        redis_url=stack.parts.redis_url,
        access_secret=secrets.token_bytes(32),
        idle_retire_s=IDLE_RETIRE_S,
    )
    retired = 0
    try:
        await asyncio.sleep(IDLE_RETIRE_S * 2)
        for _ in range(ROUNDS_MAX):
            retired += (await supervisor.supervise_round()).retired
            if not running(events):
                break
    finally:
        await supervisor.close()

    assert retired >= WRITTEN_TO
    assert running(events) == []
    again = written[0]
    async with stack.client(stack.token()) as fan_client:
        held = await fan_client.post(
            f"/v1/events/{again.event_id}/holds",
            json=general_items(again, 2),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    async with stack.client(venue.manager_token) as manager:
        seen = await manager.get(f"/v1/venue/events/{again.event_id}/stats")
    assert held.status_code == 201, held.text
    assert running(events) == [inventory_actor_name(again.event_id)]
    assert (seen.json()["held"], seen.json()["available"]) == (
        2,
        GENERAL_CAPACITY + SEATS_PER_ROW - 2,
    )
