"""Rate limits: a token bucket per scope and subject in Redis, taken by one Lua script.

A limiter must never take the sale down: when Redis cannot answer, every request passes. Rates
live in engine/limits.py and the table below names one bucket per scope; add a scope to both.
"""

import enum
import hashlib
import math

import msgspec
import redis.asyncio as redis

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
TAKE_TOKEN_SCRIPT = """
local now_ms = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local gained_per_ms = tonumber(ARGV[3])
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at_ms')
local tokens = tonumber(stored[1])
local at_ms = tonumber(stored[2])
if tokens == nil or at_ms == nil then
    tokens = capacity
    at_ms = now_ms
elseif now_ms > at_ms then
    tokens = math.min(capacity, tokens + (now_ms - at_ms) * gained_per_ms)
    at_ms = now_ms
end
local wait_ms = 0
if tokens >= 1000 then
    tokens = tokens - 1000
else
    wait_ms = math.ceil((1000 - tokens) / gained_per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at_ms', at_ms)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return wait_ms
"""


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
        self._take_token = redis_client.register_script(TAKE_TOKEN_SCRIPT)
        self._key_prefix = key_prefix
        self._limits = limits
        self._circuit = circuit or RedisCircuit("rate_limits")

    async def check(self, *, scope: str, subject: str, now_ms: int) -> int | None:
        """Take a token from the subject's bucket: None when allowed, else Retry-After seconds.

        `scope` is a RateLimitScope or its value. Also None when Redis cannot answer: the request
        passes.
        """
        scope = RateLimitScope(scope)
        bucket = self._limits[scope]
        digest = hashlib.sha256(subject.encode()).hexdigest()
        bucket_key = f"{self._key_prefix}{scope.value}:{digest}"
        arguments = [
            now_ms,
            bucket.burst * 1000,
            bucket.per_s,
            math.ceil(bucket.burst * 1000 / bucket.per_s) + RATE_LIMIT_IDLE_BUCKET_MARGIN_MS,
        ]
        try:
            wait_ms = await self._circuit.call(
                lambda: self._take_token(keys=[bucket_key], args=arguments)
            )
        except RedisSkipped:
            return None
        if wait_ms == 0:
            return None
        return max(1, math.ceil(int(wait_ms) / 1000))

    async def enforce(self, *, scope: str, subject: str, now_ms: int) -> None:
        """Raise RATE_LIMITED with its Retry-After when the subject's bucket is empty."""
        retry_after_s = await self.check(scope=scope, subject=subject, now_ms=now_ms)
        if retry_after_s is not None:
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                details={"scope": RateLimitScope(scope).value},
                retry_after_s=retry_after_s,
            )


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
