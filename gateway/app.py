"""The composition root of the HTTP gateway: builds the FastAPI app from settings and parts.

Connections to Postgres (as the service role) and Redis open in the lifespan and close with it;
everything routes share (the token verifier, the rate limiter, the idempotency store, the event
catalog, the per-event clients and the stats board) is built there once, as one typed
`GatewayState` (gateway/state.py).
Every error leaves in API.md's shape, whatever raised it; a dependency that fails is UNAVAILABLE.
Every wait of a request is bounded (engine/limits.py, "Requests"): Postgres and Redis per call, the
actors and Stripe by the request's deadline, which is handed to them here.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable

import redis.asyncio as redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute, APIRouter
from starlette.exceptions import HTTPException

from actors.cluster import keep_supervisor_running
from actors.outside_parts import OutsideParts
from actors.payment_client import PaymentClient
from actors.wall_clock import wall_clock_ms
from engine import limits
from engine.limits import MILLISECONDS_PER_SECOND
from gateway.auth import TokenVerifier
from gateway.body_limits import BodyLimits
from gateway.client_addresses import TrustedProxies
from gateway.deadlines import current_deadline_s
from gateway.errors import ApiError, ErrorCode, error_response, rejection_error
from gateway.event_catalog import EventCatalog
from gateway.event_clients import EventClients
from gateway.hot_routes import HotRoutes, hot_route, route_of
from gateway.idempotency import IdempotencyStore
from gateway.middleware import RequestContextMiddleware
from gateway.openapi import openapi_document
from gateway.parts import Parts
from gateway.rate_limits import RateLimiter, configured_limits
from gateway.routes import (
    balance,
    cancellations,
    claims,
    codes,
    dashboard,
    devices,
    events,
    exports,
    failed_work,
    health,
    holds,
    my_orders,
    order_desk,
    orders,
    payments,
    queue,
    scanning,
    stock,
    ticket_tools,
    tickets,
    venue,
    wait_list,
)
from gateway.settings import Settings
from gateway.state import GatewayState
from gateway.stats_board import StatsBoard
from payments.stripe_api import PaymentDeclined, PaymentProviderUnavailable, StripePayments
from persistence.database_errors import UNREACHABLE_ERRORS
from persistence.pool import create_pool
from services.gate_scans import PublicKeyCache
from services.settlement import Settlement
from services.settlement_parts import SettlementRefused, SettlementUnavailable

log = logging.getLogger(__name__)
STATUS_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}
DEPENDENCY_ERRORS = (
    *UNREACHABLE_ERRORS,
    redis.RedisError,
    PaymentProviderUnavailable,
    SettlementUnavailable,
)


def outside_parts(settings: Settings, parts: Parts) -> OutsideParts:
    """Where the cluster's workers reach Stripe, SMTP and Solana, and with which keys."""
    return OutsideParts(
        stripe_api_key=parts.stripe_api_key,
        stripe_api_base=parts.stripe_api_base,
        smtp_url=parts.smtp_url,
        mail_from=settings.mail_from,
        solana_rpc_url=parts.solana_rpc_url,
        solana_directory=parts.solana_directory,
        mint_authority_key=parts.mint_authority_key,
        custody_seed=parts.custody_seed,
        webhooks_to_private_addresses=not settings.is_production,
    )


def allowed_methods(routers: Iterable[APIRouter]) -> dict[str, str]:
    """Each path's `Allow` for a 405, every method its routes serve: Starlette's own names only
    those of the first route that matched the path."""
    methods: dict[str, set[str]] = {}
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                methods.setdefault(route.path, set()).update(route.methods)
    return {path: ", ".join(sorted(names)) for path, names in methods.items()}


def no_part_down() -> list[str]:
    return []


async def open_state(
    settings: Settings,
    parts: Parts,
    *,
    verifier: TokenVerifier,
    parts_down: Callable[[], list[str]],
) -> GatewayState:
    """Everything routes share, its connections to Postgres (as the service role) and Redis open."""
    access_secret = parts.access_secret.encode()
    database_pool = await create_pool(
        parts.database_service_url,
        statement_timeout_s=limits.REQUEST_STATEMENT_TIMEOUT_MS / MILLISECONDS_PER_SECOND,
        connection_wait_s=limits.REQUEST_CONNECTION_WAIT_MS / MILLISECONDS_PER_SECOND,
    )
    # A request waits for a free connection rather than failing when all are busy: a burst
    # of fans must queue for a moment, never read a dependency as down.
    redis_client = redis.Redis(
        connection_pool=redis.BlockingConnectionPool.from_url(
            parts.redis_url,
            max_connections=limits.REDIS_CONNECTIONS_PER_GATEWAY_MAX,
            timeout=limits.REDIS_CONNECTION_WAIT_MS / MILLISECONDS_PER_SECOND,
            socket_timeout=limits.REDIS_COMMAND_TIMEOUT_MS / MILLISECONDS_PER_SECOND,
            socket_connect_timeout=limits.REDIS_COMMAND_TIMEOUT_MS / MILLISECONDS_PER_SECOND,
        )
    )
    clients = EventClients(
        database_url=parts.database_service_url,
        redis_url=parts.redis_url,
        access_secret=access_secret,
    )
    return GatewayState(
        clock=wall_clock_ms,
        verifier=verifier,
        access_secret=access_secret,
        stripe_webhook_secret=parts.stripe_webhook_secret,
        parts_down=parts_down,
        database_pool=database_pool,
        redis=redis_client,
        rate_limiter=RateLimiter(redis_client, limits=configured_limits(settings)),
        idempotency=IdempotencyStore(database_pool, redis_client),
        catalog=EventCatalog(database_pool),
        clients=clients,
        settlement=Settlement(
            pool=database_pool,
            stripe=StripePayments(
                api_key=parts.stripe_api_key,
                api_base=parts.stripe_api_base,
                deadline_s=current_deadline_s,
            ),
            inventory=lambda event_id, command: clients.inventory(event_id).execute(command),
            clock=wall_clock_ms,
        ),
        payments=PaymentClient(parts.database_service_url),
        stats_board=StatsBoard(
            pool=database_pool,
            redis_client=redis_client,
            clients=clients,
            clock=wall_clock_ms,
        ),
        code_keys=PublicKeyCache(capacity=limits.CODE_PUBLIC_KEYS_CACHED_MAX),
    )


def answer_errors_in_api_shape(app: FastAPI, allow_by_path: dict[str, str]) -> None:
    """Every error leaves in API.md's shape, whatever raised it; a dependency that fails is
    UNAVAILABLE, and a 405 names every method its path serves."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return error.response()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        response = error_response(STATUS_CODES.get(error.status_code, ErrorCode.NOT_FOUND))
        response.headers.update(error.headers or {})
        if error.status_code == 405:
            path = getattr(request.scope.get("route"), "path", None)
            response.headers["Allow"] = allow_by_path.get(path, response.headers.get("Allow", ""))
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return error_response(ErrorCode.VALIDATION_ERROR, details={"errors": error.errors()})

    @app.exception_handler(SettlementRefused)
    async def settlement_refused(request: Request, error: SettlementRefused) -> Response:
        return rejection_error(error.rejected).response()

    @app.exception_handler(PaymentDeclined)
    async def payment_declined(request: Request, error: PaymentDeclined) -> Response:
        details = {"decline_code": error.decline_code} if error.decline_code else None
        return error_response(ErrorCode.PAYMENT_FAILED, message=str(error), details=details)

    async def dependency_error(request: Request, error: Exception) -> Response:
        log.warning("a dependency failed", extra={"path": request.url.path, "error": repr(error)})
        return error_response(ErrorCode.UNAVAILABLE)

    for dependency_error_type in DEPENDENCY_ERRORS:
        app.add_exception_handler(dependency_error_type, dependency_error)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(ErrorCode.INTERNAL_ERROR)


def routers_in_order(settings: Settings) -> list[APIRouter]:
    """A request is matched against the routes in this order, and no two paths overlap, so the
    fans' on-sale path (queue, holds and checkout, the event) comes first: at a sale's peak its
    requests skip some twenty other routes' patterns."""
    routers = [
        routes.router
        for routes in (
            holds,
            queue,
            events,
            orders,
            wait_list,
            payments,
            tickets,
            my_orders,
            claims,
            scanning,
            devices,
            ticket_tools,
            failed_work,
            exports,
            balance,
            venue,
            order_desk,
            cancellations,
            codes,
            stock,
            health,
        )
    ]
    if not settings.is_production:
        routers.append(payments.development_router)
    routers.append(dashboard.router)
    return routers


def create_app(
    settings: Settings, parts: Parts, *, parts_down: Callable[[], list[str]] = no_part_down
) -> FastAPI:
    """`parts_down` names the embedded parts that died and are starting again (the embedded
    runtime's watcher knows); readiness reports them."""
    verifier = TokenVerifier(settings, jwt_secret=parts.jwt_secret)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await open_state(settings, parts, verifier=verifier, parts_down=parts_down)
        app.state.gateway = state
        supervising = asyncio.create_task(
            keep_supervisor_running(
                parts.database_service_url,
                parts.redis_url,
                parts.access_secret.encode(),
                outside_parts(settings, parts),
                idle_retire_s=settings.actor_idle_retire_s,
            )
        )
        try:
            yield
        finally:
            supervising.cancel()
            await state.idempotency.close()
            await state.redis.aclose()
            await state.database_pool.close()

    # The gateway serves its own /metrics and structured logs; FastAPI's OpenTelemetry would only
    # look up, on every request, whether a provider has been configured since the last one.
    app = FastAPI(
        title="On-sale API",
        version="1",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # The interactive docs load their scripts from a CDN: production serves the document only.
        docs_url=None if settings.is_production else "/docs",
        redoc_url=None if settings.is_production else "/redoc",
    )
    # Holds and waiting-room calls, most of a sale's peak, skip FastAPI's routing and handling;
    # they still pass the request context (ids, logs, metrics), added after so it runs first.
    # Bodies are bounded between the two: the hot routes' too, and a refusal carries its id.
    hot_routes = (
        hot_route(holds.router, holds.place_hold),
        hot_route(queue.router, queue.join_queue),
        hot_route(queue.router, queue.poll_queue),
    )
    app.add_middleware(HotRoutes, routes=hot_routes)
    app.add_middleware(
        BodyLimits,
        route_limits=(
            *((route, limits.HOT_ROUTE_BODY_BYTES_MAX) for route in hot_routes),
            (route_of(payments.router, payments.stripe_webhook), limits.STRIPE_WEBHOOK_BYTES_MAX),
        ),
    )
    app.add_middleware(
        RequestContextMiddleware, trusted_proxies=TrustedProxies.parse(settings.trusted_proxies)
    )
    routers = routers_in_order(settings)
    for router in routers:
        app.include_router(router, include_in_schema=False)
    app.mount("/static", dashboard.static_files, name="static")
    document = openapi_document()
    app.openapi = lambda: document  # type: ignore[method-assign]

    answer_errors_in_api_shape(app, allowed_methods(routers))
    return app
