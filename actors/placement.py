"""How each actor kind is placed, named and restarted in the cluster: the options every named actor
shares, and the per-event actor slots a node offers.

Per-event actors are named, detached and restarted by Ray without limit; their methods are never
retried by Ray (`max_task_retries=0`): a retry is the client's decision, safe only for commands
that carry an idempotency key. They reserve no CPU, since they wait on Postgres far more than
they compute, and an event must never wait for a free core to get its writer; each takes one of
its node's event actor slots instead (`node_resources`), so a node hosts a bounded number, and
they spread over the nodes that have slots, so a node's death takes only its share of the events
(each comes back on another node with its next call).

The embedded chain keeps its accounts on one node's disk, so its actor runs only on a node that
declares itself the chain's host: the head of a cluster (`onsale node --head`), or the one node of
an embedded run.
"""

from typing import TypeVar

from ray.actor import ActorHandle, ActorProxy

from actors.names import NAMESPACE
from engine import limits

ACTOR_CONCURRENCY_MAX = 1_000
EVENT_ACTOR_SLOT = "onsale_event_actor_slot"
LOCAL_CHAIN_HOST = "onsale_local_chain_host"
# Chains a host may run at once: one per data directory of the system (tests run several).
LOCAL_CHAINS_PER_HOST_MAX = 1_000

T = TypeVar("T")


def node_resources(
    event_actors_max: int = limits.EVENT_ACTORS_PER_NODE_MAX, *, hosts_local_chain: bool = True
) -> dict[str, float]:
    """What a node of the cluster offers besides CPUs: slots for per-event actors and, on the one
    node whose disk keeps the embedded chain, its place. Every node declares these
    (`ray.init(resources=...)`, or `ray start --resources`, which `onsale node` writes)."""
    resources = {EVENT_ACTOR_SLOT: float(event_actors_max)}
    if hosts_local_chain:
        resources[LOCAL_CHAIN_HOST] = float(LOCAL_CHAINS_PER_HOST_MAX)
    return resources


def per_event(name: str) -> dict[str, object]:
    """`named_detached`, holding one of its node's event actor slots while it lives, spread over
    the nodes that have slots."""
    return named_detached(name) | {
        "resources": {EVENT_ACTOR_SLOT: 1},
        "scheduling_strategy": "SPREAD",
    }


def on_local_chain_host(name: str) -> dict[str, object]:
    """`named_detached`, on the node that keeps the embedded chain's accounts."""
    return named_detached(name) | {"resources": {LOCAL_CHAIN_HOST: 1}}


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


def handle_of(created: ActorProxy[T]) -> ActorHandle[T]:
    """The handle `.remote()` on an actor class gives: Ray types it as the class or the handle."""
    assert isinstance(created, ActorHandle), "creating an actor gives its handle"
    return created
