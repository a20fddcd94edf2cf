"""The cluster's start-up and its state as the gateway sees it: the Supervisor (made remote here,
once, at import: it starts every other actor through `actors.remote`, so it sits above it), kept
running by each gateway, and the readiness, pipeline figures and standing-work health the gateway
shows. The Supervisor starts the worker pools and the standing work itself (`actors.supervisor`,
`actors.standing_work`), so starting it here starts the whole cluster.
"""

import asyncio
import logging

import ray
from ray.actor import ActorHandle

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.inventory_figures import PipelineStats
from actors.names import NAMESPACE, SUPERVISOR_NAME
from actors.outside_parts import OutsideParts
from actors.placement import EVENT_ACTOR_SLOT, handle_of, named_detached
from actors.supervisor import Supervisor
from actors.work_health import WorkHealth
from engine import limits
from engine.limits import MILLISECONDS_PER_SECOND

CLUSTER_CHECK_TIMEOUT_S = limits.CLUSTER_CHECK_TIMEOUT_MS / MILLISECONDS_PER_SECOND
log = logging.getLogger(__name__)

RemoteSupervisor = ray.remote(Supervisor)


def supervisor(
    database_url: str,
    redis_url: str,
    access_secret: bytes,
    outside: OutsideParts,
    idle_retire_s: float = limits.ACTOR_IDLE_RETIRE_MS / limits.MILLISECONDS_PER_SECOND,
) -> ActorHandle[Supervisor]:
    """The cluster's one Supervisor, created on first use and found by name afterwards."""
    return handle_of(
        RemoteSupervisor.options(**named_detached(SUPERVISOR_NAME)).remote(
            database_url=database_url,
            redis_url=redis_url,
            access_secret=access_secret,
            outside=outside,
            idle_retire_s=idle_retire_s,
        )
    )


async def keep_supervisor_running(
    database_url: str,
    redis_url: str,
    access_secret: bytes,
    outside: OutsideParts,
    *,
    idle_retire_s: float = limits.ACTOR_IDLE_RETIRE_MS / limits.MILLISECONDS_PER_SECOND,
) -> None:
    """Start the cluster's Supervisor and start it again whenever Ray has restarted it; the first
    gateway's `idle_retire_s` is the one the cluster's Supervisor keeps."""
    handle = supervisor(database_url, redis_url, access_secret, outside, idle_retire_s)
    while True:
        try:
            await actor_answer(
                handle.start.remote(),
                timeout_s=limits.SUPERVISOR_START_TIMEOUT_MS / MILLISECONDS_PER_SECOND,
            )
        except ACTOR_CALL_ERRORS:
            log.warning("the supervisor is not answering; it will be started again")
        await asyncio.sleep(limits.SUPERVISOR_ROUND_INTERVAL_MS / MILLISECONDS_PER_SECOND)


def _cluster_serves_events() -> bool:
    """Connected to a cluster with CPUs and slots for per-event actors: a node started without
    `node_resources` could host none, and every event's first call would wait forever."""
    if not ray.is_initialized():
        return False
    # Ray leaves cluster_resources untyped: a dict of resource names to amounts.
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return resources.get("CPU", 0) > 0 and resources.get(EVENT_ACTOR_SLOT, 0) > 0


async def cluster_is_ready() -> bool:
    """True when this process is connected to a Ray cluster that can host per-event actors."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_cluster_serves_events), timeout=CLUSTER_CHECK_TIMEOUT_S
        )
    except (TimeoutError, ConnectionError, RuntimeError):
        return False


async def pipeline_stats() -> dict[str, PipelineStats]:
    """The Supervisor's latest group-commit figures per live event; empty if it is not running."""
    try:
        handle = ray.get_actor(SUPERVISOR_NAME, namespace=NAMESPACE)
        return dict(
            await actor_answer(handle.pipeline_stats.remote(), timeout_s=CLUSTER_CHECK_TIMEOUT_S)
        )
    except (ValueError, *ACTOR_CALL_ERRORS):
        return {}


async def work_health() -> WorkHealth | None:
    """How the cluster's standing work goes, from the Supervisor's last round; None when the
    Supervisor does not answer."""
    try:
        handle = ray.get_actor(SUPERVISOR_NAME, namespace=NAMESPACE)
        health: WorkHealth = await actor_answer(
            handle.health.remote(), timeout_s=CLUSTER_CHECK_TIMEOUT_S
        )
    except (ValueError, *ACTOR_CALL_ERRORS):
        return None
    return health
