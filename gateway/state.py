"""What every route shares, typed: the connections, stores and clients the composition root
(gateway/app.py) builds once at start, kept once on the app and read only through
`gateway_state`.

A new shared thing is a field here, built in gateway/app.py; no route reads `app.state` itself.
"""

import dataclasses
from collections.abc import Callable

import asyncpg
import redis.asyncio as redis
from fastapi import Request

from actors.payment_client import PaymentClient
from gateway.auth import TokenVerifier
from gateway.event_catalog import EventCatalog
from gateway.event_clients import EventClients
from gateway.idempotency import IdempotencyStore
from gateway.rate_limits import RateLimiter
from gateway.stats_board import StatsBoard
from services.gate_scans import PublicKeyCache
from services.settlement import Settlement


@dataclasses.dataclass(frozen=True, kw_only=True)
class GatewayState:
    clock: Callable[[], int]
    verifier: TokenVerifier
    access_secret: bytes
    stripe_webhook_secret: str
    # The embedded parts that died and are starting again; readiness reports them.
    parts_down: Callable[[], list[str]]
    database_pool: asyncpg.Pool
    redis: redis.Redis
    rate_limiter: RateLimiter
    idempotency: IdempotencyStore
    catalog: EventCatalog
    clients: EventClients
    settlement: Settlement
    payments: PaymentClient
    stats_board: StatsBoard
    # Tickets' public code keys, which never change, kept for the gates' scans.
    code_keys: PublicKeyCache


def gateway_state(request: Request) -> GatewayState:
    """The state the app was started with (gateway/app.py keeps it as `app.state.gateway`)."""
    state: GatewayState = request.app.state.gateway
    return state
