"""Operations endpoints: liveness, readiness of every dependency with how the standing work goes,
and the Prometheus metrics that name no tenant and no event (each event's figures are on the
private metrics port only).

Readiness is about what serves fans: Postgres, Redis and Ray answer, else 503. The standing work
(the Supervisor's rounds, stuck actors it restarted, the outbox's oldest undelivered message and
the failed work) shows beside it, and makes the status `degraded` when it is behind, still 200:
a gateway whose mints are late still sells tickets, and must stay in its load balancer.
"""

import asyncio
import logging
from collections.abc import Awaitable

import asyncpg
import redis.asyncio as redis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from actors.cluster import cluster_is_ready, work_health
from actors.work_health import WorkHealth
from engine import limits
from gateway.errors import ErrorCode, error_response
from gateway.metrics import READINESS_FAILURES
from gateway.state import gateway_state

DEPENDENCY_CHECK_TIMEOUT_S = 2.0

router = APIRouter()
log = logging.getLogger(__name__)


async def postgres_is_ready(pool: asyncpg.Pool) -> bool:
    async with pool.acquire(timeout=DEPENDENCY_CHECK_TIMEOUT_S) as connection:
        return await connection.fetchval("select 1") == 1


async def redis_is_ready(client: redis.Redis) -> bool:
    return bool(await client.ping())


async def answers_in_time(name: str, check: Awaitable[bool]) -> bool:
    """Any failure of a dependency check, whatever its kind, means that dependency is down."""
    try:
        return bool(await asyncio.wait_for(check, timeout=DEPENDENCY_CHECK_TIMEOUT_S))
    except Exception as error:
        log.warning("dependency check failed", extra={"dependency": name, "error": repr(error)})
        return False


def work_view(health: WorkHealth | None) -> dict[str, object]:
    if health is None:
        return {"supervisor": "down"}
    return {
        "supervisor": "ok",
        "rounds": health.rounds,
        "stuck_actors_restarted": health.stuck_restarted,
        "dispatcher_stalled_s": round(health.dispatcher_stalled_ms / 1_000, 1),
        "outbox_oldest_due_s": round(health.outbox_oldest_due_age_ms / 1_000, 1),
        "failed_work": health.failed_work,
    }


def is_behind(health: WorkHealth | None) -> bool:
    return (
        health is None
        or health.stuck_restarted > 0
        or health.dispatcher_stalled_ms > limits.DISPATCHER_STALLED_MAX_MS
        or health.outbox_oldest_due_age_ms > limits.OUTBOX_BACKLOG_STALE_MS
    )


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(request: Request) -> Response:
    state = gateway_state(request)
    checks = dict(
        zip(
            ("postgres", "redis", "ray"),
            await asyncio.gather(
                answers_in_time("postgres", postgres_is_ready(state.database_pool)),
                answers_in_time("redis", redis_is_ready(state.redis)),
                answers_in_time("ray", cluster_is_ready()),
            ),
            strict=True,
        )
    )
    # An embedded part that died is down until the runtime's watcher has started it again.
    checks.update((name, False) for name in state.parts_down())
    failed = [name for name, answered in checks.items() if not answered]
    if failed:
        for name in failed:
            READINESS_FAILURES.labels(name).inc()
        return error_response(
            ErrorCode.UNAVAILABLE,
            f"Not ready: {', '.join(failed)} did not answer.",
            details={
                "failed": failed,
                "checks": {name: "ok" if answered else "down" for name, answered in checks.items()},
            },
        )
    health = await work_health()
    return JSONResponse(
        {
            "status": "degraded" if is_behind(health) else "ready",
            "checks": {name: "ok" for name in checks},
            "work": work_view(health),
        }
    )


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
