"""Rate limits: a token bucket per scope and subject in Redis, all of a request's taken by one call
of one Lua script.

A limiter must never take the sale down: when Redis cannot answer, every request passes. Rates
live in engine/limits.py and the table below names one bucket per scope; add a scope to both.
"""

import enum
import hashlib
import math

import msgspec
import redis.asyncio as redis
from redis.exceptions import NoScriptError

from engine.limits import (
    RATE_LIMIT_ADDRESS_BURST,
    RATE_LIMIT_ADDRESS_PER_S,
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
# `per_s` thousandths a millisecond and all arithmetic stays in integers. Time is the caller's
# `now_ms`, not Redis TIME: gateways' clocks agree to milliseconds under NTP, far finer than these
# rates, time stays a parameter for tests, and a clock behind the bucket's never moves it back.
# A bucket idle long enough to be full again expires, since a missing bucket reads as full.
# The buckets of one request are taken in order in one call; the first empty one ends it, so the
# buckets after it keep their tokens, and the call answers {its position, the wait in ms} or {0, 0}.
TAKE_TOKENS_SCRIPT = """
local now_ms = tonumber(ARGV[1])
for position, key in ipairs(KEYS) do
    local capacity = tonumber(ARGV[position * 3 - 1])
    local gained_per_ms = tonumber(ARGV[position * 3])
    local idle_ttl_ms = ARGV[position * 3 + 1]
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
        return {position, math.ceil((1000 - tokens) / gained_per_ms)}
    end
    redis.call('HSET', key, 'tokens', tokens - 1000, 'at_ms', at_ms)
    redis.call('PEXPIRE', key, idle_ttl_ms)
end
return {0, 0}
"""
TAKE_TOKENS_SHA = hashlib.sha1(TAKE_TOKENS_SCRIPT.encode()).hexdigest()


class Limited(msgspec.Struct, frozen=True, kw_only=True):
    """The first empty bucket of a request, and when to come back."""

    scope: RateLimitScope
    retry_after_s: int


class RateLimiter:
    """One per process; `check` answers in one Redis round trip or not at all."""

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
        self._limits = limits
        self._circuit = circuit or RedisCircuit("rate_limits")

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
        arguments: list[int] = [now_ms]
        for scope in scopes:
            bucket = self._limits[scope]
            arguments += [
                bucket.burst * 1000,
                bucket.per_s,
                math.ceil(bucket.burst * 1000 / bucket.per_s) + RATE_LIMIT_IDLE_BUCKET_MARGIN_MS,
            ]
        try:
            position, wait_ms = await self._circuit.call(lambda: self._take(keys, arguments))
        except RedisSkipped:
            return None
        if position == 0:
            return None
        return Limited(
            scope=scopes[int(position) - 1], retry_after_s=max(1, math.ceil(int(wait_ms) / 1000))
        )

    async def enforce(self, *takes: tuple[str, str], now_ms: int) -> None:
        """Raise RATE_LIMITED with its Retry-After when one of the buckets is empty."""
        limited = await self.check(*takes, now_ms=now_ms)
        if limited is not None:
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                details={"scope": limited.scope.value},
                retry_after_s=limited.retry_after_s,
            )

    async def _take(self, keys: list[str], arguments: list[int]) -> list[int]:
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
