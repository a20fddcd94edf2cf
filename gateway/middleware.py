"""Per-request plumbing as one ASGI middleware: the request id, the access log and the metrics.

It wraps the whole app, so even a request no route matches gets an `X-Request-Id` and a log line.
"""

import itertools
import logging
import os
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import request_id_context
from gateway.metrics import request_series

REQUEST_ID_HEADER = b"x-request-id"
REQUEST_ID_LENGTH_MAX = 128
UNMATCHED_ROUTE = "unmatched"
access_log = logging.getLogger("onsale.access")


class RequestIds:
    """New request ids, unique across processes without a system call per request: a random
    prefix drawn once per process (again in a forked child), then a counter."""

    def __init__(self) -> None:
        self._draw_prefix()
        os.register_at_fork(after_in_child=self._draw_prefix)

    def _draw_prefix(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._numbers = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._numbers):016x}"


request_ids = RequestIds()


def accepted_request_id(raw: bytes | None) -> str:
    """The client's request id if it is short printable ASCII, else a new one."""
    if raw and len(raw) <= REQUEST_ID_LENGTH_MAX and raw.isascii():
        text = raw.decode()
        if text.isprintable() and " " not in text:
            return text
    return request_ids.next()


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = accepted_request_id(headers.get(REQUEST_ID_HEADER))
        token = request_id_context.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            elapsed_s = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            method = scope["method"]
            count, seconds = request_series(route, method, status)
            count.inc()
            seconds.observe(elapsed_s)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed_s * 1000, 3),
                    },
                )
            request_id_context.reset(token)
