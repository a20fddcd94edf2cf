"""A caller's deadline bounds its wait in the actor clients, on real Ray: a keyed command or a join
whose actor cannot answer is answered UNAVAILABLE once its deadline passes, however many of the
client's attempts are left."""

import time
import uuid
from collections.abc import Iterator

import pytest
import ray

from actors.inventory_client import InventoryClient
from actors.names import NAMESPACE, inventory_actor_name, waiting_room_actor_name
from actors.placement import per_event
from actors.remote import RemoteInventoryActor, RemoteWaitingRoomActor
from actors.waiting_room_client import WaitingRoomClient
from engine.commands import ItemRequest, PlaceHold
from engine.rejections import Reason, Rejected
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.event_repository import CreatedEvent
from persistence.pool import service_url

pytestmark = pytest.mark.usefixtures("ray_cluster")
TIME_LEFT_S = 0.5
# What a loaded machine may add to a bound; a bound, never a benchmark.
MARGIN_S = 2.0
# A resource no node of the test cluster has: an actor that asks for it is never scheduled.
NOWHERE = "onsale_test_no_such_node"


@pytest.fixture
async def event(migrated_database_url: str) -> CreatedEvent:
    _, created = await seed_event(migrated_database_url, event_on_sale_now(general_capacity=50))
    return created


@pytest.fixture
def never_scheduled() -> Iterator[list[str]]:
    """Names of actors a test created that no node can host; they are stopped after it."""
    names: list[str] = []
    yield names
    for name in names:
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)


def hold(event: CreatedEvent) -> PlaceHold:
    general = next(str(t.ticket_type_id) for t in event.ticket_types if t.key == "GA")
    return PlaceHold(
        new_hold_id=str(uuid.uuid4()),
        fan_id="fan-1",
        items=(ItemRequest(ticket_type_id=general, quantity=1),),
        idempotency_key=str(uuid.uuid4()),
    )


async def test_keyed_command_is_unavailable_at_its_deadline_when_the_actor_is_never_scheduled(
    migrated_database_url: str, event: CreatedEvent, never_scheduled: list[str]
) -> None:
    event_id, database_url = str(event.event_id), service_url(migrated_database_url)
    never_scheduled.append(inventory_actor_name(event_id))
    RemoteInventoryActor.options(
        **(per_event(never_scheduled[0]) | {"resources": {NOWHERE: 1}})
    ).remote(event_id=event_id, database_url=database_url)
    started_s = time.monotonic()
    deadline_s = started_s + TIME_LEFT_S
    client = InventoryClient(event_id, database_url, deadline_s=lambda: deadline_s)

    answer = await client.execute(hold(event))
    answered_after_s = time.monotonic() - started_s

    assert isinstance(answer, Rejected) and answer.reason is Reason.UNAVAILABLE
    assert answered_after_s <= TIME_LEFT_S + MARGIN_S, answered_after_s


async def test_join_is_unavailable_at_its_deadline_when_the_room_is_never_scheduled(
    migrated_database_url: str,
    redis_url: str,
    event: CreatedEvent,
    never_scheduled: list[str],
) -> None:
    event_id, database_url = str(event.event_id), service_url(migrated_database_url)
    never_scheduled.append(waiting_room_actor_name(event_id))
    secret = b"s" * 32
    RemoteWaitingRoomActor.options(
        **(per_event(never_scheduled[0]) | {"resources": {NOWHERE: 1}})
    ).remote(
        event_id=event_id, database_url=database_url, redis_url=redis_url, access_secret=secret
    )
    started_s = time.monotonic()
    deadline_s = started_s + TIME_LEFT_S
    client = WaitingRoomClient(
        event_id, database_url, redis_url, secret, deadline_s=lambda: deadline_s
    )

    answer = await client.join("fan-1")
    answered_after_s = time.monotonic() - started_s

    assert isinstance(answer, Rejected) and answer.reason is Reason.UNAVAILABLE
    assert answered_after_s <= TIME_LEFT_S + MARGIN_S, answered_after_s
