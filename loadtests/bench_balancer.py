"""B7: holds per second through HAProxy to two gateways against one gateway, on the local
cluster (loadtests.local_cluster: two Ray nodes, two gateways, HAProxy), in the same run.

The same load as B2 (64 kept-alive connections, a new fan and key on every hold, durable 201s
counted after a warm-up) is driven first straight at one gateway, then at the balancer. Every
process's CPU time is read before and after each side, so the figures end with the CPU one hold
costs each part: the inputs of README's capacity model.
"""

import asyncio
import os
import time
from collections.abc import Callable

import httpx
import psutil

from gateway.auth import Role
from loadtests.bench_http import RUN_SECONDS, WARM_UP_SECONDS, drive, event_body, hold_requests
from loadtests.local_cluster.cluster import LocalCluster
from loadtests.running_system import sign

TARGET_RATIO = 0.9
TOKEN_TTL_S = 3_600
PARTS = ("gateways", "ray actors", "haproxy", "postgres", "redis", "load generator")


def part_of(process: psutil.Process, gateway_pids: set[int]) -> str | None:
    """Which part of the system a process is, or None for one of another's."""
    if process.pid == os.getpid():
        return "load generator"
    if process.pid in gateway_pids:
        return "gateways"
    name = process.info["name"] or ""
    command = " ".join(process.info["cmdline"] or [])
    if name.startswith("ray::") or "default_worker.py" in command:
        return "ray actors"
    for part in ("haproxy", "postgres", "redis"):
        if name.startswith(part):
            return part
    return None


def cpu_seconds(gateway_pids: set[int]) -> dict[str, float]:
    """The CPU time (user and system) every part has used so far."""
    used = dict.fromkeys(PARTS, 0.0)
    for process in psutil.process_iter(["name", "cmdline"], ad_value=None):
        part = part_of(process, gateway_pids)
        if part is None:
            continue
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        used[part] += times.user + times.system
    return used


def measured(
    run: Callable[[], list[float]], gateway_pids: set[int]
) -> tuple[float, dict[str, float]]:
    """Holds per second of one run, and each part's CPU milliseconds per hold. The CPU is read
    over the warm-up too, whose holds are not counted: they are taken at the measured rate."""
    before = cpu_seconds(gateway_pids)
    holds = run()
    after = cpu_seconds(gateway_pids)
    holds_per_s = len(holds) / RUN_SECONDS
    holds_in_all = max(holds_per_s * (WARM_UP_SECONDS + RUN_SECONDS), 1.0)
    return holds_per_s, {
        part: (after[part] - before[part]) * 1_000 / holds_in_all for part in PARTS
    }


def new_event(cluster: LocalCluster) -> tuple[str, str]:
    venue = sign(cluster.parts(), "bench-venue", Role.VENUE_MANAGER, TOKEN_TTL_S)
    created = httpx.post(
        f"{cluster.balancer_url}/v1/venue/events",
        content=event_body(),
        headers={"Authorization": f"Bearer {venue}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    return created.json()["event_id"], created.json()["ticket_types"][0]["id"]


def main() -> int:
    cluster = LocalCluster()
    try:
        cluster.start()
        secret = cluster.parts().jwt_secret
        assert secret is not None
        gateway_pids = cluster.gateway_process_ids()
        host = cluster.network.host_address

        def one_gateway() -> list[float]:
            requests = hold_requests(secret, *new_event(cluster))
            return asyncio.run(drive(cluster.gateways[0].port, requests, host))

        def balancer() -> list[float]:
            requests = hold_requests(secret, *new_event(cluster))
            return asyncio.run(drive(cluster.balancer_ports.fans, requests, host))

        time.sleep(1)
        direct_per_s, direct_cpu = measured(one_gateway, gateway_pids)
        balanced_per_s, balanced_cpu = measured(balancer, gateway_pids)
    finally:
        cluster.end()
    ratio = balanced_per_s / direct_per_s
    print(f"one_gateway holds_per_s={direct_per_s:,.0f} (straight to gateway-1)")
    print(f"two_gateways holds_per_s={balanced_per_s:,.0f} (through HAProxy, round robin)")
    for label, cpu in (("one gateway", direct_cpu), ("two gateways", balanced_cpu)):
        shares = " ".join(f"{part.replace(' ', '_')}={ms:.2f}" for part, ms in cpu.items())
        print(f"cpu_ms_per_hold {label.replace(' ', '_')}: {shares}")
    verdict = "ok" if ratio >= TARGET_RATIO else "short"
    print(f"B7 ratio={ratio:.2f} target={TARGET_RATIO} {verdict}")
    return 0 if verdict == "ok" else 1
