"""The request and response plumbing every route shares: who is asking, within which limits,
with which body, about which id; and the encoding of what is answered.

Each step raises `ApiError`, so a route reads as the steps of its request and nothing a client
sends reaches a handler undecoded.
"""

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
from fastapi import Request
from fastapi.responses import Response

from gateway.auth import Principal, Role, require_roles
from gateway.body_values import escapes_nul, moment_out_of_range, nul_path
from gateway.canonical_ids import canonical_uuid
from gateway.client_addresses import CLIENT_ADDRESS_SCOPE_KEY
from gateway.errors import ApiError, ErrorCode
from gateway.idempotency import check_key
from gateway.rate_limits import RateLimiter, RateLimitScope
from gateway.schemas import MOMENT_RANGE
from gateway.state import gateway_state

T = TypeVar("T")
JSON = "application/json"
VENUE_ROLES = (Role.VENUE_MANAGER, Role.ADMIN)
_encoder = msgspec.json.Encoder()
# How msgspec names where a body went wrong: "... - at `$.onsale.hold_ttl_s`", and the name of an
# unknown field in "Object contains unknown field `colour`".
_ERROR_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<name>[^`]*)`")


async def authenticate(request: Request, *roles: Role) -> Principal:
    """The caller, within its address's and its own rate limits, holding one of `roles` if given.

    The address is the client's, worked out once per request (gateway.client_addresses). Both
    buckets are taken in one Redis call, the address's first. A request whose token does not
    verify still takes its address's token before it is refused, so a flood of bad tokens from
    one address is limited like any other.
    """
    state = gateway_state(request)
    limiter: RateLimiter = state.rate_limiter
    now_ms = state.clock()
    client: str = request.scope[CLIENT_ADDRESS_SCOPE_KEY]
    address = (RateLimitScope.ADDRESS, client)
    try:
        principal: Principal = state.verifier.principal(request.headers.get("authorization"))
    except ApiError:
        await limiter.enforce(address, now_ms=now_ms)
        raise
    await limiter.enforce(address, (RateLimitScope.FAN, principal.caller), now_ms=now_ms)
    if roles:
        require_roles(principal, *roles)
    return principal


async def read_body(request: Request) -> bytes:
    """The whole body, bounded by the route's limit as it streamed in (gateway.body_limits)."""
    return await request.body()


IDEMPOTENCY_KEY_HEADER = "idempotency-key"


async def answer_once(
    request: Request,
    principal: Principal,
    raw_body: bytes,
    produce: Callable[[], Awaitable[Response]],
) -> Response:
    """Run `produce` under the request's Idempotency-Key, if it sent one (API.md, Idempotency)."""
    response: Response = await gateway_state(request).idempotency.run(
        principal_tenant_id=principal.tenant_id,
        caller=principal.caller,
        key=idempotency_key(request),
        method_and_path=f"{request.method} {request.url.path}",
        body=raw_body,
        produce=produce,
    )
    return response


def idempotency_key(request: Request) -> str | None:
    """The caller's Idempotency-Key, checked for its form (gateway.idempotency.check_key)."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is not None:
        check_key(key)
    return key


def field_of(error: msgspec.ValidationError) -> str | None:
    """The body's field a validation error is about, as `onsale.waiting_room.enabled`."""
    text = str(error)
    at = _ERROR_PATH.search(text)
    path = at.group("path") if at is not None else ""
    unknown = _UNKNOWN_FIELD.match(text)
    if unknown is not None:
        path = f"{path}.{unknown.group('name')}" if path else unknown.group("name")
    return path or None


def decode_body(body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """The body as its Struct; a malformed body, an unknown field, a wrong type, a text holding
    NUL or a moment out of range (gateway.body_values) is a 422 that names the field when it
    can. Nothing Postgres would refuse gets past it."""
    if escapes_nul(body):
        field = nul_path(body)
        raise invalid(
            "a text of the body holds the NUL character (\\u0000), which no text may hold",
            **({} if field is None else {"field": field}),
        )
    try:
        decoded = decoder.decode(body)
    except msgspec.ValidationError as error:
        details: dict[str, object] = {"errors": [str(error)]}
        field = field_of(error)
        if field is not None:
            details["field"] = field
        raise ApiError(ErrorCode.VALIDATION_ERROR, message=str(error), details=details) from None
    except msgspec.DecodeError as error:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            message="the body is not valid JSON",
            details={"errors": [str(error)]},
        ) from None
    field = moment_out_of_range(decoded)
    if field is not None:
        raise invalid(
            f"{field} is out of range: a moment, once converted to UTC, is from {MOMENT_RANGE}",
            field=field,
        )
    return decoded


def path_id(text: str) -> uuid.UUID:
    """An id from the path; one that is not a canonical UUID names nothing, so it is NOT_FOUND."""
    parsed = canonical_uuid(text)
    if parsed is None:
        raise ApiError(ErrorCode.NOT_FOUND)
    return parsed


def json_response(body: msgspec.Struct, status: int = 200) -> Response:
    return Response(content=_encoder.encode(body), status_code=status, media_type=JSON)


def invalid(message: str, **details: object) -> ApiError:
    return ApiError(ErrorCode.VALIDATION_ERROR, message=message, details=details or None)
