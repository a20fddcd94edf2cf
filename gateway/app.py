"""The composition root of the HTTP gateway: builds the FastAPI app from settings and parts.

Connections to Postgres (as the service role) and Redis open in the lifespan and close with it;
routes find them on `app.state`. Every error leaves in API.md's shape, whatever raised it.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import redis.asyncio as redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from actors.clients import keep_supervisor_running
from gateway.errors import ErrorCode, error_response
from gateway.middleware import RequestContextMiddleware
from gateway.parts import Parts
from gateway.routes import health
from gateway.settings import Settings
from persistence.pool import create_pool

log = logging.getLogger(__name__)
STATUS_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}


def create_app(settings: Settings, parts: Parts) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.parts = parts
        app.state.database_pool = await create_pool(parts.database_service_url)
        app.state.redis = redis.Redis.from_url(parts.redis_url)
        supervising = asyncio.create_task(
            keep_supervisor_running(
                parts.database_service_url, parts.redis_url, parts.access_secret.encode()
            )
        )
        try:
            yield
        finally:
            supervising.cancel()
            await app.state.redis.aclose()
            await app.state.database_pool.close()

    app = FastAPI(title="On-sale API", version="1", lifespan=lifespan)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        return error_response(STATUS_CODES.get(error.status_code, ErrorCode.NOT_FOUND))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return error_response(ErrorCode.VALIDATION_ERROR, details={"errors": error.errors()})

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(ErrorCode.INTERNAL_ERROR)

    return app
