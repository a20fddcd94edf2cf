"""Request bodies bounded as they stream in: each route's limit, enforced before a byte over it
is kept, and a bound on how many large bodies are read at once.

A declared Content-Length over the route's limit is refused at once, unread. A body that may be
large (declared over SMALL_BODY_BYTES_MAX, or chunked) takes one of LARGE_BODIES_IN_FLIGHT_MAX
places for its request's life, or is refused as UNAVAILABLE, and its chunks are counted as they
arrive: the read that passes the limit raises PAYLOAD_TOO_LARGE (an ApiError, so the app's handler
answers it, hot route or not). A small declared body passes untouched, since the server frames
it by its Content-Length, and a request that never reads its body is never refused for it. The
limits are in engine/limits.py; a route gets a limit of its own in the table app.py gives.
"""

from collections.abc import Sequence

from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import limits
from gateway.errors import ApiError, ErrorCode

CONTENT_LENGTH = b"content-length"
TRANSFER_ENCODING = b"transfer-encoding"
# A refused upload is not read to its end: the connection closes after the answer.
CONNECTION_CLOSE = (b"connection", b"close")


def too_large(bytes_max: int) -> ApiError:
    return ApiError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        message=f"the body is over this route's limit of {bytes_max} bytes",
        details={"bytes_max": bytes_max},
    )


async def refuse(refusal: ApiError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer `refusal` without reading the body, and close the connection after it."""
    response = refusal.response()
    response.raw_headers.append(CONNECTION_CLOSE)
    await response(scope, receive, send)


class MeteredBody:
    """One large body's running count, between the server and the app; once it passed its limit,
    every later read is refused too and the answer closes the connection."""

    __slots__ = ("_receive", "_send", "bytes_max", "bytes_received", "refused")

    def __init__(self, receive: Receive, send: Send, bytes_max: int) -> None:
        self._receive = receive
        self._send = send
        self.bytes_max = bytes_max
        self.bytes_received = 0
        self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            raise too_large(self.bytes_max)
        message = await self._receive()
        if message["type"] == "http.request":
            self.bytes_received += len(message.get("body", b""))
            if self.bytes_received > self.bytes_max:
                self.refused = True
                raise too_large(self.bytes_max)
        return message

    async def send(self, message: Message) -> None:
        if self.refused and message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), CONNECTION_CLOSE]
        await self._send(message)


class BodyLimits:
    """Bounds every request's body by its route's limit (`REQUEST_BODY_BYTES_MAX` unless the
    table names the route), and the large bodies read at once."""

    def __init__(self, app: ASGIApp, *, route_limits: Sequence[tuple[APIRoute, int]]) -> None:
        assert all(bytes_max >= limits.SMALL_BODY_BYTES_MAX for _, bytes_max in route_limits), (
            "a small body is under every route's limit, so it is never looked at"
        )
        self.app = app
        self._route_limits = tuple(
            (route.path_regex, route.methods, bytes_max) for route, bytes_max in route_limits
        )
        self._large_bodies = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == CONTENT_LENGTH:
                declared = value
            elif name == TRANSFER_ENCODING:
                chunked = True
        length = int(declared) if declared is not None and declared.isdigit() else None
        # No body, or a small one the server frames by its Content-Length: nothing to count.
        if not chunked and (
            declared is None or (length is not None and length <= limits.SMALL_BODY_BYTES_MAX)
        ):
            await self.app(scope, receive, send)
            return
        bytes_max = self._bytes_max(scope)
        if not chunked and length is not None and length > bytes_max:
            await refuse(too_large(bytes_max), scope, receive, send)
            return
        if self._large_bodies >= limits.LARGE_BODIES_IN_FLIGHT_MAX:
            refusal = ApiError(
                ErrorCode.UNAVAILABLE,
                message="too many large bodies are being received; retry later",
                details={"bodies_max": limits.LARGE_BODIES_IN_FLIGHT_MAX},
            )
            await refuse(refusal, scope, receive, send)
            return
        self._large_bodies += 1
        body = MeteredBody(receive, send, bytes_max)
        try:
            await self.app(scope, body.receive, body.send)
        finally:
            self._large_bodies -= 1

    def _bytes_max(self, scope: Scope) -> int:
        path, method = scope["path"], scope["method"]
        for path_regex, methods, bytes_max in self._route_limits:
            if method in methods and path_regex.match(path) is not None:
                return bytes_max
        return limits.REQUEST_BODY_BYTES_MAX
