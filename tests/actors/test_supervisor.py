"""The Supervisor: every live event's actors are started, and reconciliation reports drift."""

import secrets
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import ray

from actors.names import NAMESPACE, inventory_actor_name, waiting_room_actor_name
from actors.supervisor import Supervisor
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.event_repository import WaitingRoomSettings
from persistence.pool import service_url

pytestmark = pytest.mark.usefixtures("ray_cluster")
QUEUED = WaitingRoomSettings(
    enabled=True, admit_per_second=10, max_active_shoppers=100, access_ttl_s=600
)


@pytest.fixture
async def supervisor(migrated_database_url: str, redis_url: str) -> AsyncIterator[Supervisor]:
    supervisor = Supervisor(
        database_url=service_url(migrated_database_url),
        redis_url=redis_url,
        access_secret=secrets.token_bytes(32),
    )
    yield supervisor
    await supervisor.close()


async def test_live_events_get_their_actors_and_reconcile_clean_when_a_round_runs(
    migrated_database_url: str, supervisor: Supervisor
) -> None:
    _, plain = await seed_event(migrated_database_url, event_on_sale_now(general_capacity=10))
    _, queued = await seed_event(
        migrated_database_url, event_on_sale_now(general_capacity=10, waiting_room=QUEUED)
    )
    report = await supervisor.supervise_round(reconcile=True)

    assert (report.live_events, report.waiting_rooms_started) == (2, 1)
    assert (report.reconciled_events, report.differences) == (2, {})
    stats = await supervisor.pipeline_stats()
    assert sorted(stats) == sorted(str(event.event_id) for event in (plain, queued))
    assert all(event_stats.epoch == 1 for event_stats in stats.values())
    for event in (plain, queued):
        ray.kill(ray.get_actor(inventory_actor_name(str(event.event_id)), namespace=NAMESPACE))
    ray.kill(ray.get_actor(waiting_room_actor_name(str(queued.event_id)), namespace=NAMESPACE))
    with pytest.raises(ValueError):
        ray.get_actor(waiting_room_actor_name(str(plain.event_id)), namespace=NAMESPACE)


async def test_round_reports_the_event_whose_counts_drifted_when_reconciling(
    migrated_database_url: str, supervisor: Supervisor
) -> None:
    _, created = await seed_event(migrated_database_url, event_on_sale_now(general_capacity=10))
    await supervisor.supervise_round(reconcile=False)
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
    ray.kill(ray.get_actor(inventory_actor_name(str(created.event_id)), namespace=NAMESPACE))
    assert uuid.UUID(difference.ticket_type_id)
