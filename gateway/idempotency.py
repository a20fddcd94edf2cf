"""Idempotency-Key for the POST routes that change state (API.md, "Idempotency"): the same key and
request within the TTL get the first response again, byte for byte, and cause no second effect.

Postgres decides who owns a key; Redis only answers replays sooner and may be flushed or down.
Which responses are kept as the first one is `is_kept`: change it only together with API.md. An
attempt whose response is not kept frees its key before it answers, or, when Postgres does not
answer, as soon as it does: the retry after a 503 runs rather than meeting its own dead attempt.
"""

import asyncio
import hashlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import assert_never

import asyncpg
import msgspec
import redis.asyncio as redis
from fastapi.responses import Response

from actors.wall_clock import wall_clock_ms
from engine.limits import (
    IDEMPOTENCY_CALLER_CHARACTERS_MAX,
    IDEMPOTENCY_IN_FLIGHT_LEASE_MS,
    IDEMPOTENCY_KEY_CHARACTERS_MAX,
    IDEMPOTENCY_KEY_TTL_MS,
    IDEMPOTENCY_RELEASE_RETRY_INTERVAL_MS,
    IDEMPOTENCY_RELEASE_WAIT_MS,
    IDEMPOTENCY_RELEASES_DEFERRED_MAX,
    MILLISECONDS_PER_SECOND,
    TENANTS_REGISTERED_PER_PROCESS_MAX,
)
from gateway.errors import ApiError, ErrorCode
from gateway.redis_circuit import RedisCircuit, RedisSkipped
from persistence.database_errors import UNREACHABLE_ERRORS
from persistence.idempotency import (
    Claimed,
    ClaimOutcome,
    Conflict,
    ConflictReason,
    Replay,
    claim_key,
    complete_key,
    release_key,
)
from persistence.tenancy import tenant_transaction
from persistence.tenants import register_tenant

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_CHARACTERS_MAX}}}")
# Marks a replay, as Stripe does; the status and body are the first response's, unchanged.
REPLAYED_HEADER = "Idempotent-Replayed"
JSON_MEDIA_TYPE = "application/json"
# The reason a conflict shows the caller; a key held by another tenant is simply taken.
CONFLICT_DETAILS: dict[ConflictReason, str] = {
    ConflictReason.DIFFERENT_REQUEST: "different_request",
    ConflictReason.IN_FLIGHT: "in_flight",
    ConflictReason.NOT_VISIBLE: "different_request",
}
assert set(CONFLICT_DETAILS) == set(ConflictReason)

log = logging.getLogger(__name__)


class StoredResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A first response as kept: its status, its exact bytes and its media type."""

    status: int
    body: bytes
    media_type: str

    @classmethod
    def of_response(cls, response: Response) -> "StoredResponse":
        assert isinstance(response.body, bytes | memoryview), "a kept response has its body whole"
        return cls(
            status=response.status_code,
            body=bytes(response.body),
            media_type=response.media_type or JSON_MEDIA_TYPE,
        )

    def replay(self) -> Response:
        return Response(
            content=self.body,
            status_code=self.status,
            media_type=self.media_type,
            headers={REPLAYED_HEADER: "true"},
        )


class KeyClaim(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt's claim of a key, known by when it was made."""

    tenant_id: uuid.UUID
    caller: str
    key: str
    request_hash: str
    claimed_at_ms: int


class CachedResponse(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    request_hash: str
    response: StoredResponse


CACHE_ENCODER = msgspec.msgpack.Encoder()
CACHE_DECODER = msgspec.msgpack.Decoder(CachedResponse)


def is_kept(status: int) -> bool:
    """A response is kept as the first one unless it says nothing was done: 429 and every 5xx."""
    return status < 500 and status != 429


def check_key(key: str) -> None:
    """1 to 255 printable ASCII characters, no space (API.md); the table checks it again."""
    if IDEMPOTENCY_KEY_PATTERN.fullmatch(key) is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, details={"header": IDEMPOTENCY_KEY_HEADER})


def hash_request(method_and_path: str, body: bytes) -> str:
    return hashlib.sha256(method_and_path.encode() + b"\n" + body).hexdigest()


async def answer_of(produce: Callable[[], Awaitable[Response]]) -> Response:
    """Run `produce`; a kept ApiError it raises becomes its response, any other propagates."""
    try:
        return await produce()
    except ApiError as error:
        response = error.response()
        if not is_kept(response.status_code):
            raise
        return response


def conflict(reason: ConflictReason) -> ApiError:
    return ApiError(ErrorCode.IDEMPOTENCY_CONFLICT, details={"reason": CONFLICT_DETAILS[reason]})


class IdempotencyStore:
    """The flow every state-changing POST runs through; one per process, shared by all routes."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        redis_client: redis.Redis,
        *,
        key_prefix: str = "onsale:idempotency:",
        ttl_s: int = IDEMPOTENCY_KEY_TTL_MS // MILLISECONDS_PER_SECOND,
        in_flight_lease_s: int = IDEMPOTENCY_IN_FLIGHT_LEASE_MS // MILLISECONDS_PER_SECOND,
        clock_ms: Callable[[], int] = wall_clock_ms,
        circuit: RedisCircuit | None = None,
    ) -> None:
        self._pool = pool
        self._redis = redis_client
        self._key_prefix = key_prefix
        self._ttl_s = ttl_s
        self._in_flight_lease_s = in_flight_lease_s
        self._clock_ms = clock_ms
        self._circuit = circuit or RedisCircuit("idempotency")
        self._registered_tenants: set[uuid.UUID] = set()
        self._releasing: set[asyncio.Task[None]] = set()
        # Releases Postgres did not take, oldest first, retried by one task while there are any.
        self._deferred: dict[KeyClaim, None] = {}
        self._releasing_deferred: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Stop the releases still waiting for Postgres: their claims' leases free the keys."""
        tasks = list(self._releasing)
        if self._releasing_deferred is not None:
            tasks.append(self._releasing_deferred)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(
        self,
        *,
        principal_tenant_id: uuid.UUID,
        caller: str,
        key: str | None,
        method_and_path: str,
        body: bytes,
        produce: Callable[[], Awaitable[Response]],
    ) -> Response:
        """Answer the request once per key: run `produce`, or replay its first response.

        `caller` is the principal's (tenant and user id); `method_and_path` names the concrete
        path ("POST /v1/holds/<id>/checkout"), so one key sent to two holds conflicts. A 4xx
        ApiError `produce` raises is kept and returned as its response, like any response it
        returns; a 429, a 5xx or any other exception releases the key (nothing changed) and is
        passed on; a request that comes while it runs is still a conflict. Raises ApiError for a
        bad key, a conflict, or Postgres down (nothing changed).
        Only the status, body and media type of a response are kept, never its other headers.
        """
        if key is None:
            return await produce()
        check_key(key)
        assert 1 <= len(caller) <= IDEMPOTENCY_CALLER_CHARACTERS_MAX, "callers come from tokens"
        request_hash = hash_request(method_and_path, body)
        cache_key = self._cache_key(principal_tenant_id, caller, key)
        cached = await self._read_cache(cache_key)
        if cached is not None:
            if cached.request_hash != request_hash:
                raise conflict(ConflictReason.DIFFERENT_REQUEST)
            return cached.response.replay()
        claim = KeyClaim(
            tenant_id=principal_tenant_id,
            caller=caller,
            key=key,
            request_hash=request_hash,
            claimed_at_ms=self._clock_ms(),
        )
        outcome = await self._claim(claim)
        match outcome:
            case Replay():
                first = StoredResponse(
                    status=outcome.status, body=outcome.body, media_type=outcome.media_type
                )
                await self._write_cache(cache_key, request_hash, first, outcome.expires_at_ms)
                return first.replay()
            case Conflict():
                raise conflict(outcome.reason)
            case Claimed():
                expires_at_ms = outcome.expires_at_ms
            case _:
                assert_never(outcome)
        try:
            response = await answer_of(produce)
        except BaseException:
            await self._release(claim)
            raise
        if not is_kept(response.status_code):
            await self._release(claim)
            return response
        first = StoredResponse.of_response(response)
        if await self._complete(principal_tenant_id, caller, key, request_hash, first):
            await self._write_cache(cache_key, request_hash, first, expires_at_ms)
        return response

    def _cache_key(self, tenant_id: uuid.UUID, caller: str, key: str) -> str:
        # Hashed, so any caller and key make one bounded Redis key with no separator to forge.
        digest = hashlib.sha256(f"{len(caller)}:{caller}:{key}".encode()).hexdigest()
        return f"{self._key_prefix}{tenant_id}:{digest}"

    async def _read_cache(self, cache_key: str) -> CachedResponse | None:
        try:
            raw = await self._circuit.call(lambda: self._redis.get(cache_key))
        except RedisSkipped:
            return None
        if raw is None:
            return None
        try:
            return CACHE_DECODER.decode(raw)
        except msgspec.DecodeError:
            log.warning("unreadable idempotency entry in redis; asking postgres")
            return None

    async def _write_cache(
        self, cache_key: str, request_hash: str, response: StoredResponse, expires_at_ms: int
    ) -> None:
        remaining_ms = expires_at_ms - self._clock_ms()
        if remaining_ms <= 0:
            return
        cached = CACHE_ENCODER.encode(CachedResponse(request_hash=request_hash, response=response))
        try:
            await self._circuit.call(lambda: self._redis.set(cache_key, cached, px=remaining_ms))
        except RedisSkipped:
            return

    async def _claim(self, claim: KeyClaim) -> ClaimOutcome:
        """The Postgres claim, registering the tenant first (the row's foreign key needs it). When
        Postgres does not answer, the claim may still commit once it does: it is released then."""
        tenant_id = claim.tenant_id
        try:
            async with tenant_transaction(self._pool, tenant_id) as connection:
                if tenant_id not in self._registered_tenants:
                    await register_tenant(connection, tenant_id=tenant_id)
                outcome = await claim_key(
                    connection,
                    tenant_id=tenant_id,
                    caller=claim.caller,
                    key=claim.key,
                    request_hash=claim.request_hash,
                    now_ms=claim.claimed_at_ms,
                    ttl_s=self._ttl_s,
                    in_flight_lease_s=self._in_flight_lease_s,
                )
        except UNREACHABLE_ERRORS as error:
            log.warning("idempotency claim failed: postgres is down", extra={"error": repr(error)})
            self._release_later(claim)
            raise ApiError(ErrorCode.UNAVAILABLE) from error
        if len(self._registered_tenants) >= TENANTS_REGISTERED_PER_PROCESS_MAX:
            self._registered_tenants.clear()
        self._registered_tenants.add(tenant_id)
        return outcome

    async def _complete(
        self,
        tenant_id: uuid.UUID,
        caller: str,
        key: str,
        request_hash: str,
        response: StoredResponse,
    ) -> bool:
        """Keep the first response; False only when another request took the claim over.

        The effect has happened, so the response goes out even when Postgres cannot keep it (Redis
        still may); the claim then ends with its lease, and a retry reaches the engine's own
        idempotency.
        """
        try:
            async with tenant_transaction(self._pool, tenant_id) as connection:
                completed = await complete_key(
                    connection,
                    caller=caller,
                    key=key,
                    request_hash=request_hash,
                    status=response.status,
                    body=response.body,
                    media_type=response.media_type,
                )
        except UNREACHABLE_ERRORS as error:
            log.error("idempotency key not completed", extra={"error": repr(error)})
            return True
        if not completed:
            log.warning("idempotency claim was taken over before it completed")
        return completed

    async def _release(self, claim: KeyClaim) -> None:
        """Free `claim`, whose attempt changed nothing, so that a retry runs at once. The answer
        waits for it at most IDEMPOTENCY_RELEASE_WAIT_MS; a release Postgres does not take is
        retried in the background."""
        releasing = asyncio.create_task(self._release_or_defer(claim))
        self._releasing.add(releasing)
        releasing.add_done_callback(self._releasing.discard)
        await asyncio.wait(
            {releasing}, timeout=IDEMPOTENCY_RELEASE_WAIT_MS / MILLISECONDS_PER_SECOND
        )

    async def _release_or_defer(self, claim: KeyClaim) -> None:
        try:
            await self._release_now(claim)
        except UNREACHABLE_ERRORS as error:
            log.warning("idempotency key not released yet", extra={"error": repr(error)})
            self._release_later(claim)

    async def _release_now(self, claim: KeyClaim) -> None:
        async with tenant_transaction(self._pool, claim.tenant_id) as connection:
            await release_key(
                connection,
                caller=claim.caller,
                key=claim.key,
                request_hash=claim.request_hash,
                claimed_at_ms=claim.claimed_at_ms,
            )

    def _release_later(self, claim: KeyClaim) -> None:
        """Release `claim` once Postgres answers again (`_release_deferred`)."""
        if len(self._deferred) >= IDEMPOTENCY_RELEASES_DEFERRED_MAX:
            log.warning("too many idempotency keys wait to be released; their leases free them")
            return
        self._deferred[claim] = None
        if self._releasing_deferred is None or self._releasing_deferred.done():
            self._releasing_deferred = asyncio.create_task(self._release_deferred())

    async def _release_deferred(self) -> None:
        """Every interval, release the deferred claims, oldest first and one at a time, until
        Postgres fails again or none is left; a claim whose lease has ended needs no release."""
        lease_ms = self._in_flight_lease_s * MILLISECONDS_PER_SECOND
        while self._deferred:
            await asyncio.sleep(IDEMPOTENCY_RELEASE_RETRY_INTERVAL_MS / MILLISECONDS_PER_SECOND)
            for claim in list(self._deferred):
                if self._clock_ms() < claim.claimed_at_ms + lease_ms:
                    try:
                        await self._release_now(claim)
                    except UNREACHABLE_ERRORS:
                        break
                del self._deferred[claim]
