"""Rate limits: a token bucket per scope and subject in Redis, taken by one Lua script.

Requests that arrive while a call is in flight go together in the next call, as the actors'
clients batch commands: under load a request costs a share of one round trip, not a round trip.
Each request's buckets are still taken in order and on their own, as if it had come alone.

A limiter must never take the sale down: when Redis cannot answer, every request passes. Rates
live in engine/limits.py and the table below names one bucket per scope; add a scope to both.
"""

import asyncio
import enum
import hashlib
import math

import msgspec
import redis.asyncio as redis
from redis.exceptions import NoScriptError

from engine.limits import (
    RATE_LIMIT_ADDRESS_BURST,
    RATE_LIMIT_ADDRESS_PER_S,
    RATE_LIMIT_BATCH_REQUESTS_MAX,
    RATE_LIMIT_FAN_BURST,
    RATE_LIMIT_FAN_PER_S,
    RATE_LIMIT_IDLE_BUCKET_MARGIN_MS,
)
from gateway.errors import ApiError, ErrorCode
from gateway.redis_circuit import RedisCircuit, RedisSkipped
from gateway.settings import Settings


class RateLimitScope(enum.StrEnum):
    FAN = "fan"  # the caller of the token
    ADDRESS = "address"  # the client address


class TokenBucket(msgspec.Struct, frozen=True, kw_only=True):
    burst: int
    per_s: int

    def __post_init__(self) -> None:
        assert self.burst >= 1 and self.per_s >= 1, self


RATE_LIMITS: dict[RateLimitScope, TokenBucket] = {
    RateLimitScope.FAN: TokenBucket(burst=RATE_LIMIT_FAN_BURST, per_s=RATE_LIMIT_FAN_PER_S),
    RateLimitScope.ADDRESS: TokenBucket(
        burst=RATE_LIMIT_ADDRESS_BURST, per_s=RATE_LIMIT_ADDRESS_PER_S
    ),
}
assert set(RATE_LIMITS) == set(RateLimitScope), "every scope needs a bucket"

# Tokens are counted in thousandths, so a bucket refilling `per_s` tokens a second gains exactly
# `per_s` thousandths a millisecond and all arithmetic stays in integers. Time is each request's
# `now_ms`, not Redis TIME: gateways' clocks agree to milliseconds under NTP, far finer than these
# rates, time stays a parameter for tests, and a clock behind the bucket's never moves it back.
# A bucket idle long enough to be full again expires, since a missing bucket reads as full.
# ARGV opens with the number of scopes and, per scope, its capacity, gain per ms and idle TTL;
# then come two per request: its now_ms and its scopes' numbers as one string of digits, so a
# batch sends few arguments. KEYS holds the requests' buckets in the same order. A request's
# buckets are taken in order; its first empty one ends it, so the buckets after it keep their
# tokens. The answer is two numbers per request: {the empty bucket's position, the wait in ms},
# or {0, 0} when every bucket gave a token.
TAKE_TOKENS_SCRIPT = """
local answers = {}
local scope_count = tonumber(ARGV[1])
local next_key = 1
for next_argument = 2 + 3 * scope_count, #ARGV, 2 do
    local now_ms = tonumber(ARGV[next_argument])
    local scopes = ARGV[next_argument + 1]
    local limited_position = 0
    local wait_ms = 0
    for position = 1, #scopes do
        if limited_position == 0 then
            local key = KEYS[next_key + position - 1]
            local parameters = 3 * tonumber(string.sub(scopes, position, position)) - 1
            local capacity = tonumber(ARGV[parameters])
            local gained_per_ms = tonumber(ARGV[parameters + 1])
            local idle_ttl_ms = ARGV[parameters + 2]
            local stored = redis.call('HMGET', key, 'tokens', 'at_ms')
            local tokens = tonumber(stored[1])
            local at_ms = tonumber(stored[2])
            if tokens == nil or at_ms == nil then
                tokens = capacity
                at_ms = now_ms
            elseif now_ms > at_ms then
                tokens = math.min(capacity, tokens + (now_ms - at_ms) * gained_per_ms)
                at_ms = now_ms
            end
            if tokens < 1000 then
                limited_position = position
                wait_ms = math.ceil((1000 - tokens) / gained_per_ms)
            else
                redis.call('HSET', key, 'tokens', tokens - 1000, 'at_ms', at_ms)
                redis.call('PEXPIRE', key, idle_ttl_ms)
            end
        end
    end
    next_key = next_key + #scopes
    answers[#answers + 1] = limited_position
    answers[#answers + 1] = wait_ms
end
return answers
"""
TAKE_TOKENS_SHA = hashlib.sha1(TAKE_TOKENS_SCRIPT.encode()).hexdigest()
# What a request hears when Redis could not answer: no bucket was empty.
EVERY_BUCKET_GAVE = (0, 0)


class Limited(msgspec.Struct, frozen=True, kw_only=True):
    """The first empty bucket of a request, and when to come back."""

    scope: RateLimitScope
    retry_after_s: int


class PendingTake:
    """One request's buckets, waiting for the next script call."""

    __slots__ = ("future", "keys", "now_ms", "scope_numbers")

    def __init__(
        self,
        keys: list[str],
        now_ms: int,
        scope_numbers: str,
        future: asyncio.Future[tuple[int, int]],
    ) -> None:
        self.keys = keys
        self.now_ms = now_ms
        self.scope_numbers = scope_numbers
        self.future = future


class RateLimiter:
    """One per process; `check` answers within one Redis round trip or not at all."""

    def __init__(
        self,
        redis_client: redis.Redis,
        *,
        key_prefix: str = "onsale:rate:",
        limits: dict[RateLimitScope, TokenBucket] = RATE_LIMITS,
        circuit: RedisCircuit | None = None,
    ) -> None:
        assert set(limits) == set(RateLimitScope), "every scope needs a bucket"
        self._redis = redis_client
        self._key_prefix = key_prefix
        # The script's opening arguments: each scope's capacity, gain per ms and idle TTL, which
        # its requests name by number.
        self._scope_numbers = {scope: str(number) for number, scope in enumerate(limits, 1)}
        assert len(self._scope_numbers) <= 9, "a scope's number is one digit"
        self._scope_arguments: list[int] = [len(limits)]
        for bucket in limits.values():
            self._scope_arguments += (
                bucket.burst * 1000,
                bucket.per_s,
                math.ceil(bucket.burst * 1000 / bucket.per_s) + RATE_LIMIT_IDLE_BUCKET_MARGIN_MS,
            )
        self._circuit = circuit or RedisCircuit("rate_limits")
        self._pending: list[PendingTake] = []
        self._sender: asyncio.Task[None] | None = None

    async def check(self, *takes: tuple[str, str], now_ms: int) -> Limited | None:
        """Take a token from each (scope, subject) bucket in order, stopping at the first empty
        one: None when all allowed, else that bucket and its Retry-After.

        A scope is a RateLimitScope or its value. Also None when Redis cannot answer: the request
        passes.
        """
        scopes = [RateLimitScope(scope) for scope, _ in takes]
        keys = [
            f"{self._key_prefix}{scope.value}:{hashlib.sha256(subject.encode()).hexdigest()}"
            for scope, (_, subject) in zip(scopes, takes, strict=True)
        ]
        scope_numbers = "".join(self._scope_numbers[scope] for scope in scopes)
        future: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        self._pending.append(PendingTake(keys, now_ms, scope_numbers, future))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_pending())
        position, wait_ms = await future
        if position == 0:
            return None
        return Limited(scope=scopes[position - 1], retry_after_s=max(1, math.ceil(wait_ms / 1000)))

    async def enforce(self, *takes: tuple[str, str], now_ms: int) -> None:
        """Raise RATE_LIMITED with its Retry-After when one of the buckets is empty."""
        limited = await self.check(*takes, now_ms=now_ms)
        if limited is not None:
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                details={"scope": limited.scope.value},
                retry_after_s=limited.retry_after_s,
            )

    async def _send_pending(self) -> None:
        """Send what waits, a batch per call, until nothing does."""
        try:
            while self._pending:
                batch = self._pending[:RATE_LIMIT_BATCH_REQUESTS_MAX]
                del self._pending[:RATE_LIMIT_BATCH_REQUESTS_MAX]
                await self._answer(batch)
        finally:
            self._sender = None

    async def _answer(self, batch: list[PendingTake]) -> None:
        keys = [key for pending in batch for key in pending.keys]
        arguments: list[int | str] = list(self._scope_arguments)
        for pending in batch:
            arguments += (pending.now_ms, pending.scope_numbers)
        try:
            answer = await self._circuit.call(lambda: self._take(keys, arguments))
        except RedisSkipped:
            answer = list(EVERY_BUCKET_GAVE) * len(batch)
        except Exception as error:
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(error)
            return
        for index, pending in enumerate(batch):
            if not pending.future.done():
                pending.future.set_result((int(answer[2 * index]), int(answer[2 * index + 1])))

    async def _take(self, keys: list[str], arguments: list[int | str]) -> list[int]:
        """EVALSHA, loading the script the first time a Redis server has not seen it."""
        try:
            answer: list[int] = await self._redis.evalsha(
                TAKE_TOKENS_SHA, len(keys), *keys, *arguments
            )
        except NoScriptError:
            answer = await self._redis.eval(TAKE_TOKENS_SCRIPT, len(keys), *keys, *arguments)
        return answer


def configured_limits(settings: Settings) -> dict[RateLimitScope, TokenBucket]:
    """The buckets with the operator's rates; each burst stays at least its default."""
    return {
        RateLimitScope.FAN: TokenBucket(
            burst=max(RATE_LIMIT_FAN_BURST, settings.rate_limit_fan_per_s),
            per_s=settings.rate_limit_fan_per_s,
        ),
        RateLimitScope.ADDRESS: TokenBucket(
            burst=max(RATE_LIMIT_ADDRESS_BURST, settings.rate_limit_address_per_s),
            per_s=settings.rate_limit_address_per_s,
        ),
    }
