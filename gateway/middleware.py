"""Per-request plumbing as one ASGI middleware: the request id, the client's address, the deadline,
the access log and the metrics.

It wraps the whole app, so even a request no route matches gets an `X-Request-Id`, a deadline and
its metrics. The client's address is worked out here once (gateway.client_addresses) and left in
the scope, for the rate limits and the access log alike. Every 5xx is logged, with its request
id; other answers at DEBUG, and at INFO one in `ACCESS_LOG_SAMPLED_ONE_IN` of each route and
status class, so the log does not grow with traffic.
"""

import itertools
import logging
import os
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import limits
from gateway.client_addresses import (
    CLIENT_ADDRESS_SCOPE_KEY,
    NO_TRUSTED_PROXIES,
    TrustedProxies,
    client_address,
)
from gateway.deadlines import deadline_s_of, request_deadline_s
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


class AccessSampler:
    """Which answers below 500 the access log shows at INFO: the first of each series (a method,
    a route and a status class), then one in `one_in`, each with how many it skipped."""

    def __init__(
        self,
        *,
        one_in: int = limits.ACCESS_LOG_SAMPLED_ONE_IN,
        series_max: int = limits.ACCESS_LOG_SAMPLED_SERIES_MAX,
    ) -> None:
        assert one_in >= 1 and series_max >= 1
        self._one_in = one_in
        self._series_max = series_max
        self._skipped: dict[tuple[str, str, int], int] = {}

    def skipped_before(self, series: tuple[str, str, int]) -> int | None:
        """The number of this series' answers skipped since its last line, when this one is
        logged; None when it is skipped."""
        skipped = self._skipped.get(series)
        if skipped is not None and skipped < self._one_in - 1:
            self._skipped[series] = skipped + 1
            return None
        if skipped is None and len(self._skipped) >= self._series_max:
            self._skipped.clear()
        self._skipped[series] = 0
        return skipped or 0


def failure_level(status: int) -> int:
    """503 says a dependency is down and nothing was done: a warning; any other 5xx, an error."""
    return logging.WARNING if status == 503 else logging.ERROR


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, trusted_proxies: TrustedProxies = NO_TRUSTED_PROXIES
    ) -> None:
        self.app = app
        self._sampler = AccessSampler()
        self._trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = accepted_request_id(headers.get(REQUEST_ID_HEADER))
        token = request_id_context.set(request_id)
        peer = scope.get("client")
        address = client_address(
            None if peer is None else peer[0], scope["headers"], self._trusted_proxies
        )
        scope[CLIENT_ADDRESS_SCOPE_KEY] = address
        started = time.perf_counter()
        deadline_token = request_deadline_s.set(
            deadline_s_of(scope["method"], started_s=time.monotonic())
        )
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
            self._log(method, route, scope["path"], address, status, elapsed_s)
            request_deadline_s.reset(deadline_token)
            request_id_context.reset(token)

    def _log(
        self, method: str, route: str, path: str, client: str, status: int, elapsed_s: float
    ) -> None:
        """Log a 5xx always; any other answer at DEBUG, or sampled at INFO."""
        if status >= 500:
            level, skipped = failure_level(status), None
        elif access_log.isEnabledFor(logging.DEBUG):
            level, skipped = logging.DEBUG, None
        elif access_log.isEnabledFor(logging.INFO):
            level, skipped = (
                logging.INFO,
                self._sampler.skipped_before((method, route, status // 100)),
            )
            if skipped is None:
                return
        else:
            return
        fields: dict[str, object] = {
            "method": method,
            "path": path,
            "route": route,
            "client": client,
            "status": status,
            "duration_ms": round(elapsed_s * 1000, 3),
        }
        if skipped is not None:
            fields["skipped"] = skipped
        access_log.log(level, "request", extra=fields)
