"""The typed facade through which the gateway reaches Ray; no other gateway module imports ray.

Calls that block on the cluster run in a thread so the event loop never waits on Ray.
"""

import asyncio

import ray

CLUSTER_CHECK_TIMEOUT_S = 2.0


def _cluster_has_cpus() -> bool:
    return ray.is_initialized() and ray.cluster_resources().get("CPU", 0) > 0


async def cluster_is_ready() -> bool:
    """True when this process is connected to a Ray cluster that reports resources."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_cluster_has_cpus), timeout=CLUSTER_CHECK_TIMEOUT_S
        )
    except (TimeoutError, ConnectionError, RuntimeError):
        return False
