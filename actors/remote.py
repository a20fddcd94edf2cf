"""The only place `ray.remote` is applied: how each actor kind is placed, named and restarted.

Per-event actors are named, detached and restarted by Ray without limit; their methods are never
retried by Ray (`max_task_retries=0`): a retry is the client's decision, safe only for commands
that carry an idempotency key. They reserve no CPU, since they wait on Postgres far more than
they compute, and an event must never wait for a free core to get its writer; each takes one of
its node's event actor slots instead (`node_resources`), so a node hosts a bounded number.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import ray

from actors.inventory_actor import InventoryActor
from actors.lifecycle import wall_clock_ms
from actors.mint_worker import MintWorker
from actors.names import (
    NAMESPACE,
    SUPERVISOR_NAME,
    inventory_actor_name,
    local_chain_name,
    mint_worker_name,
    notification_worker_name,
    waiting_room_actor_name,
)
from actors.notification_worker import NotificationWorker
from actors.waiting_room_actor import WaitingRoomActor
from engine import limits
from minting.chain import ChainBackend
from minting.local_chain import LocalChain

if TYPE_CHECKING:
    from actors.standing_work import OutsideParts

ACTOR_CONCURRENCY_MAX = 1_000
EVENT_ACTOR_SLOT = "onsale_event_actor_slot"

RemoteInventoryActor = ray.remote(InventoryActor)
RemoteWaitingRoomActor = ray.remote(WaitingRoomActor)
RemoteLocalChain = ray.remote(LocalChain)
RemoteMintWorker = ray.remote(MintWorker)
RemoteNotificationWorker = ray.remote(NotificationWorker)
# A mint worker's deliveries overlap only when the dispatcher gave up waiting on one; more would
# only queue on its two connections.
MINT_WORKER_CONCURRENCY_MAX = 4


def node_resources(event_actors_max: int = limits.EVENT_ACTORS_PER_NODE_MAX) -> dict[str, float]:
    """What a node of the cluster offers besides CPUs: slots for per-event actors. Every node
    that hosts them declares these (`ray.init(resources=...)`, or `ray start --resources`)."""
    return {EVENT_ACTOR_SLOT: float(event_actors_max)}


def per_event(name: str) -> dict[str, object]:
    """`named_detached`, holding one of its node's event actor slots while it lives."""
    return named_detached(name) | {"resources": {EVENT_ACTOR_SLOT: 1}}


def named_detached(name: str, max_concurrency: int = ACTOR_CONCURRENCY_MAX) -> dict[str, object]:
    """The options every named actor of the cluster shares: found by name, detached, restarted
    by Ray without limit, never retried by Ray, and reserving no CPU."""
    return {
        "name": name,
        "namespace": NAMESPACE,
        "lifetime": "detached",
        "get_if_exists": True,
        "max_restarts": -1,
        "max_task_retries": 0,
        "max_concurrency": max_concurrency,
        "num_cpus": 0,
    }


def inventory_actor(
    event_id: str, database_url: str, clock: Callable[[], int] = wall_clock_ms
) -> ray.actor.ActorHandle:
    """The event's InventoryActor, created on first use and found by name afterwards."""
    return RemoteInventoryActor.options(**per_event(inventory_actor_name(event_id))).remote(
        event_id=event_id, database_url=database_url, clock=clock
    )


def waiting_room_actor(
    event_id: str,
    database_url: str,
    redis_url: str,
    access_secret: bytes,
    clock: Callable[[], int] = wall_clock_ms,
) -> ray.actor.ActorHandle:
    """The event's WaitingRoomActor, created on first use and found by name afterwards."""
    return RemoteWaitingRoomActor.options(**per_event(waiting_room_actor_name(event_id))).remote(
        event_id=event_id,
        database_url=database_url,
        redis_url=redis_url,
        access_secret=access_secret,
        clock=clock,
    )


def supervisor(
    database_url: str,
    redis_url: str,
    access_secret: bytes,
    outside: "OutsideParts",
    idle_retire_s: float = limits.ACTOR_IDLE_RETIRE_S,
) -> ray.actor.ActorHandle:
    """The cluster's one Supervisor, created on first use and found by name afterwards.

    The Supervisor creates per-event actors through this module, so its class is imported at
    first use rather than at the top: either module can then be imported first.
    """
    from actors.supervisor import Supervisor

    return (
        ray.remote(Supervisor)
        .options(**named_detached(SUPERVISOR_NAME))
        .remote(
            database_url=database_url,
            redis_url=redis_url,
            access_secret=access_secret,
            outside=outside,
            idle_retire_s=idle_retire_s,
        )
    )


def local_chain(directory: str) -> ray.actor.ActorHandle:
    """The cluster's one embedded Solana chain, its accounts kept under `directory` (e.g.
    `<data dir>/solana`); created on first use and found by name afterwards.

    Its methods never await, so its calls run one at a time however many are queued; a restart
    reloads the accounts from the directory. Workers reach it through `actors.solana_chain`.
    """
    return RemoteLocalChain.options(**named_detached(local_chain_name(directory))).remote(
        directory=directory
    )


def mint_worker(
    index: int, database_url: str, chain: ChainBackend, authority_key: str, custody_seed: str
) -> ray.actor.ActorHandle:
    """Mint worker number `index` of the pool, created on first use and found by name afterwards;
    `chain` is an `actors.solana_chain.ActorChain` or a `minting.rpc_chain.RpcChain`."""
    return RemoteMintWorker.options(
        **named_detached(
            mint_worker_name(database_url, index), max_concurrency=MINT_WORKER_CONCURRENCY_MAX
        )
    ).remote(
        database_url=database_url,
        chain=chain,
        authority_key=authority_key,
        custody_seed=custody_seed,
    )


def notification_worker(
    index: int,
    database_url: str,
    smtp_url: str,
    mail_from: str,
    webhooks_to_private_addresses: bool,
) -> ray.actor.ActorHandle:
    """Notification worker number `index` of the pool, created on first use and found by name
    afterwards."""
    return RemoteNotificationWorker.options(
        **named_detached(notification_worker_name(database_url, index))
    ).remote(
        database_url=database_url,
        smtp_url=smtp_url,
        mail_from=mail_from,
        webhooks_to_private_addresses=webhooks_to_private_addresses,
    )
