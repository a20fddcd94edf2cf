"""The only place `ray.remote` is applied: how each actor kind is placed, named and restarted.

Per-event actors are named, detached and restarted by Ray without limit; their methods are never
retried by Ray (`max_task_retries=0`): a retry is the client's decision, safe only for commands
that carry an idempotency key. They reserve no CPU, since they wait on Postgres far more than
they compute, and an event must never wait for a free core to get its writer.
"""

import functools
from collections.abc import Callable

import ray

from actors.inventory_actor import InventoryActor
from actors.lifecycle import wall_clock_ms
from actors.names import (
    NAMESPACE,
    SUPERVISOR_NAME,
    inventory_actor_name,
    waiting_room_actor_name,
)
from actors.waiting_room_actor import WaitingRoomActor

ACTOR_CONCURRENCY_MAX = 1_000

RemoteInventoryActor = ray.remote(InventoryActor)
RemoteWaitingRoomActor = ray.remote(WaitingRoomActor)


def inventory_actor(
    event_id: str, database_url: str, clock: Callable[[], int] = wall_clock_ms
) -> ray.actor.ActorHandle:
    """The event's InventoryActor, created on first use and found by name afterwards."""
    return RemoteInventoryActor.options(
        name=inventory_actor_name(event_id),
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        max_restarts=-1,
        max_task_retries=0,
        max_concurrency=ACTOR_CONCURRENCY_MAX,
        num_cpus=0,
    ).remote(event_id=event_id, database_url=database_url, clock=clock)


def waiting_room_actor(
    event_id: str,
    database_url: str,
    redis_url: str,
    access_secret: bytes,
    clock: Callable[[], int] = wall_clock_ms,
) -> ray.actor.ActorHandle:
    """The event's WaitingRoomActor, created on first use and found by name afterwards."""
    return RemoteWaitingRoomActor.options(
        name=waiting_room_actor_name(event_id),
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        max_restarts=-1,
        max_task_retries=0,
        max_concurrency=ACTOR_CONCURRENCY_MAX,
        num_cpus=0,
    ).remote(
        event_id=event_id,
        database_url=database_url,
        redis_url=redis_url,
        access_secret=access_secret,
        clock=clock,
    )


@functools.cache
def remote_supervisor_class() -> ray.actor.ActorClass:
    from actors.supervisor import Supervisor

    return ray.remote(Supervisor)


def supervisor(database_url: str, redis_url: str, access_secret: bytes) -> ray.actor.ActorHandle:
    """The cluster's one Supervisor, created on first use and found by name afterwards.

    The Supervisor creates per-event actors through this module, so its class is imported at
    first use rather than at the top: either module can then be imported first.
    """
    from actors.supervisor import Supervisor

    return (
        ray.remote(Supervisor)
        .options(
            name=SUPERVISOR_NAME,
            namespace=NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            max_restarts=-1,
            max_task_retries=0,
            max_concurrency=ACTOR_CONCURRENCY_MAX,
            num_cpus=0,
        )
        .remote(database_url=database_url, redis_url=redis_url, access_secret=access_secret)
    )
