"""How each actor kind is placed, named and restarted in the cluster: the options every named actor
shares, and the per-event actor slots a node offers.

Per-event actors are named, detached and restarted by Ray without limit; their methods are never
retried by Ray (`max_task_retries=0`): a retry is the client's decision, safe only for commands
that carry an idempotency key. They reserve no CPU, since they wait on Postgres far more than
they compute, and an event must never wait for a free core to get its writer; each takes one of
its node's event actor slots instead (`node_resources`), so a node hosts a bounded number.
"""

from typing import TypeVar

from ray.actor import ActorHandle, ActorProxy

from actors.names import NAMESPACE
from engine import limits

ACTOR_CONCURRENCY_MAX = 1_000
EVENT_ACTOR_SLOT = "onsale_event_actor_slot"

T = TypeVar("T")


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


def handle_of(created: ActorProxy[T]) -> ActorHandle[T]:
    """The handle `.remote()` on an actor class gives: Ray types it as the class or the handle."""
    assert isinstance(created, ActorHandle), "creating an actor gives its handle"
    return created
