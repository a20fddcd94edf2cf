"""The Supervisor: a busy event's actors are kept started, an idle one's retire and come back on
demand, an event nobody touches gets none, and reconciliation reports drift."""

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import ray

from actors.inventory_client import InventoryClient
from actors.names import NAMESPACE, inventory_actor_name, waiting_room_actor_name
from actors.supervisor import SupervisionReport, Supervisor
from actors.waiting_room_client import WaitingRoomClient
from engine.commands import ItemRequest, PlaceHold, ReleaseHold
from engine.outcomes import Acknowledged, HoldView
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.event_repository import CreatedEvent, WaitingRoomSettings
from persistence.pool import service_url

pytestmark = pytest.mark.usefixtures("ray_cluster")
QUEUED = WaitingRoomSettings(
    enabled=True, admit_per_second=10, max_active_shoppers=100, access_ttl_s=600
)
# Short enough that a test waits for it, long enough that an actor in use is never idle.
IDLE_RETIRE_S = 0.5
ROUNDS_MAX = 10


@pytest.fixture
async def supervisor(migrated_database_url: str, redis_url: str) -> AsyncIterator[Supervisor]:
    supervisor = Supervisor(
        database_url=service_url(migrated_database_url),
        redis_url=redis_url,
        access_secret=secrets.token_bytes(32),
        idle_retire_s=IDLE_RETIRE_S,
    )
    yield supervisor
    await supervisor.close()


def is_running(name: str) -> bool:
    try:
        ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:
        return False
    return True


def stop(*names: str) -> None:
    for name in names:
        with contextlib.suppress(ValueError):
            ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)


def general_hold(event: CreatedEvent, fan: str) -> PlaceHold:
    general = next(str(t.ticket_type_id) for t in event.ticket_types if t.key == "GA")
    return PlaceHold(
        new_hold_id=str(uuid.uuid4()),
        fan_id=fan,
        items=(ItemRequest(ticket_type_id=general, quantity=1),),
        idempotency_key=str(uuid.uuid4()),
    )


async def test_events_nobody_touched_get_no_actors_when_a_round_runs(
    migrated_database_url: str, supervisor: Supervisor
) -> None:
    _, plain = await seed_event(migrated_database_url, event_on_sale_now(general_capacity=10))
    _, queued = await seed_event(
        migrated_database_url, event_on_sale_now(general_capacity=10, waiting_room=QUEUED)
    )

    report = await supervisor.supervise_round(reconcile=True)

    assert (report.busy_events, report.inventories_running, report.waiting_rooms_running) == (
        0,
        0,
        0,
    )
    for event in (plain, queued):
        assert not is_running(inventory_actor_name(str(event.event_id)))
        assert not is_running(waiting_room_actor_name(str(event.event_id)))


async def test_an_event_with_a_live_hold_gets_its_actor_back_when_it_was_stopped(
    migrated_database_url: str, supervisor: Supervisor
) -> None:
    _, event = await seed_event(migrated_database_url, event_on_sale_now(general_capacity=10))
    name = inventory_actor_name(str(event.event_id))
    client = InventoryClient(str(event.event_id), service_url(migrated_database_url))
    held = await client.execute(general_hold(event, "fan-1"))
    assert isinstance(held, HoldView)
    stop(name)

    report = await supervisor.supervise_round(reconcile=True)

    try:
        assert (report.busy_events, report.inventories_running, report.retired) == (1, 1, 0)
        assert (report.reconciled_events, report.differences) == (1, {})
        assert is_running(name)
        assert (await supervisor.pipeline_stats())[str(event.event_id)].epoch == 2
    finally:
        stop(name)


async def test_idle_actors_retire_and_come_back_on_demand_when_their_event_is_touched_again(
    migrated_database_url: str, redis_url: str, supervisor: Supervisor
) -> None:
    _, event = await seed_event(
        migrated_database_url, event_on_sale_now(general_capacity=10, waiting_room=QUEUED)
    )
    inventory_name = inventory_actor_name(str(event.event_id))
    room_name = waiting_room_actor_name(str(event.event_id))
    client = InventoryClient(str(event.event_id), service_url(migrated_database_url))
    room = WaitingRoomClient(
        str(event.event_id), service_url(migrated_database_url), redis_url, b"r" * 32
    )
    try:
        held = await client.execute(general_hold(event, "fan-1"))
        assert isinstance(held, HoldView)
        assert await room.ready()
        busy = await supervisor.supervise_round()
        released = await client.execute(ReleaseHold(hold_id=held.hold_id, fan_id="fan-1"))
        assert isinstance(released, Acknowledged)
        await _wait_idle()

        rounds = await rounds_until_stopped(supervisor, inventory_name, room_name)

        assert (busy.busy_events, busy.inventories_running, busy.retired) == (1, 1, 0)
        assert {round_.busy_events for round_ in rounds} == {0}
        assert sum(round_.retired for round_ in rounds) == 2
        last = rounds[-1]
        assert (last.inventories_running, last.waiting_rooms_running) == (0, 0)

        again = await client.execute(general_hold(event, "fan-2"))

        assert isinstance(again, HoldView)
        assert is_running(inventory_name)
        assert (await ray.get_actor(inventory_name, namespace=NAMESPACE).stats.remote()).epoch == 2
    finally:
        stop(inventory_name, room_name)


async def test_a_room_with_fans_waiting_is_kept_when_it_is_idle(
    migrated_database_url: str, redis_url: str, supervisor: Supervisor
) -> None:
    _, event = await seed_event(
        migrated_database_url,
        event_on_sale_now(
            general_capacity=10,
            waiting_room=WaitingRoomSettings(
                enabled=True, admit_per_second=1, max_active_shoppers=1, access_ttl_s=600
            ),
        ),
    )
    room_name = waiting_room_actor_name(str(event.event_id))
    room = WaitingRoomClient(
        str(event.event_id), service_url(migrated_database_url), redis_url, b"r" * 32
    )
    try:
        places = [await room.join(f"fan-{number}") for number in range(3)]
        assert len({place.queue_id for place in places}) == 3
        await _wait_idle()
        stop(room_name)

        report = await supervisor.supervise_round()

        assert (report.busy_events, report.waiting_rooms_running, report.retired) == (1, 1, 0)
        assert is_running(room_name)
    finally:
        stop(room_name, inventory_actor_name(str(event.event_id)))


async def test_round_reports_the_event_whose_counts_drifted_when_reconciling(
    migrated_database_url: str, supervisor: Supervisor
) -> None:
    _, created = await seed_event(migrated_database_url, event_on_sale_now(general_capacity=10))
    client = InventoryClient(str(created.event_id), service_url(migrated_database_url))
    assert isinstance(await client.execute(general_hold(created, "fan-1")), HoldView)
    owner = await asyncpg.connect(migrated_database_url)
    try:
        await owner.execute(
            "update ticket_types set sold_quantity = 1 where event_id = $1", created.event_id
        )
    finally:
        await owner.close()

    report = await supervisor.supervise_round(reconcile=True)

    [difference] = report.differences[str(created.event_id)]
    assert (difference.measure, difference.in_memory, difference.in_postgres) == (
        "sold_counter",
        0,
        1,
    )
    stop(inventory_actor_name(str(created.event_id)))
    assert uuid.UUID(difference.ticket_type_id)


async def rounds_until_stopped(supervisor: Supervisor, *names: str) -> list[SupervisionReport]:
    """Rounds until the named actors stopped: one busy with its expiry sweep at the instant it is
    asked stays until the next round."""
    rounds = []
    for _ in range(ROUNDS_MAX):
        rounds.append(await supervisor.supervise_round())
        if not any(is_running(name) for name in names):
            return rounds
    raise AssertionError(f"{names} are still running after {ROUNDS_MAX} rounds")


async def _wait_idle() -> None:
    """Let the idle time pass on the wall clock the actors run on."""
    await asyncio.sleep(IDLE_RETIRE_S * 2)
