"""Token buckets in the real Redis: a burst passes, then Retry-After; buckets are per scope and
subject; a request's buckets are taken in order in one call, up to the first empty one; requests
arriving together share script calls and are answered as if each came alone; tokens come back as
time passes (time is `now_ms`); a dead Redis lets everything pass."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from engine.limits import (
    RATE_LIMIT_ADDRESS_BURST,
    RATE_LIMIT_FAN_BURST,
    RATE_LIMIT_FAN_PER_S,
)
from gateway.errors import ApiError, ErrorCode
from gateway.rate_limits import RATE_LIMITS, RateLimiter, RateLimitScope, TokenBucket
from gateway.redis_circuit import RedisCircuit
from tests.gateway.redis_clients import dead_redis_client, delete_keys, redis_client

__all__ = ["dead_redis_client", "redis_client"]

NOW_MS = 1_900_000_000_000
REDIS_DOWN_CALLS_BUDGET_S = 0.5
PATIENT_REDIS_TIMEOUT_MS = 5_000


@pytest.fixture
def key_prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
async def limiter(redis_client: redis.Redis, key_prefix: str) -> AsyncIterator[RateLimiter]:
    """A limiter whose Redis calls wait long enough that a slow moment of a loaded machine never
    opens its circuit: these tests are about the buckets' arithmetic, and an open circuit lets
    every request pass."""
    patient = RedisCircuit("rate_limits", timeout_ms=PATIENT_REDIS_TIMEOUT_MS)
    yield RateLimiter(redis_client, key_prefix=key_prefix, circuit=patient)
    await delete_keys(redis_client, key_prefix)


async def take(
    limiter: RateLimiter,
    count: int,
    *,
    scope: RateLimitScope = RateLimitScope.FAN,
    subject: str = "fan-1",
    now_ms: int = NOW_MS,
) -> list[int | None]:
    answers = [await limiter.check((scope, subject), now_ms=now_ms) for _ in range(count)]
    return [None if limited is None else limited.retry_after_s for limited in answers]


async def test_burst_passes_then_retry_after_is_at_least_one_second_when_a_fan_hammers(
    limiter: RateLimiter,
) -> None:
    answers = await take(limiter, RATE_LIMIT_FAN_BURST + 1)

    assert answers[:-1] == [None] * RATE_LIMIT_FAN_BURST
    assert answers[-1] is not None and answers[-1] >= 1


@pytest.mark.parametrize(
    "other",
    [
        {"subject": "fan-2"},
        {"scope": RateLimitScope.ADDRESS},
    ],
    ids=["subject", "scope"],
)
async def test_other_bucket_is_untouched_when_one_bucket_is_empty(
    limiter: RateLimiter, other: dict[str, object]
) -> None:
    await take(limiter, RATE_LIMIT_FAN_BURST + 1)

    assert await take(limiter, 1, **other) == [None]  # type: ignore[arg-type]
    assert (await take(limiter, 1))[0] is not None


async def test_one_token_returns_when_its_refill_time_passes(limiter: RateLimiter) -> None:
    await take(limiter, RATE_LIMIT_FAN_BURST)
    token_ms = 1000 // RATE_LIMIT_FAN_PER_S

    just_before = await take(limiter, 1, now_ms=NOW_MS + token_ms - 1)
    on_time = await take(limiter, 1, now_ms=NOW_MS + token_ms)
    after = await take(limiter, 1, now_ms=NOW_MS + token_ms)

    assert just_before[0] is not None
    assert on_time == [None]
    assert after[0] is not None


async def test_bucket_fills_no_further_than_its_burst_when_it_stays_idle(
    limiter: RateLimiter,
) -> None:
    await take(limiter, 1)

    answers = await take(limiter, RATE_LIMIT_FAN_BURST + 1, now_ms=NOW_MS + 3_600_000)

    assert answers.count(None) == RATE_LIMIT_FAN_BURST


async def test_retry_after_is_the_wait_for_the_next_token_rounded_up_when_refill_is_slow(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    slow = TokenBucket(burst=2, per_s=1)
    limiter = RateLimiter(
        redis_client, key_prefix=key_prefix, limits=dict.fromkeys(RateLimitScope, slow)
    )
    try:
        answers = await take(limiter, 3)
        half_a_token_later = await take(limiter, 1, now_ms=NOW_MS + 500)
    finally:
        await delete_keys(redis_client, key_prefix)

    assert answers == [None, None, 1]
    assert half_a_token_later == [1]


async def test_bucket_expires_when_it_would_be_full_again(
    limiter: RateLimiter, redis_client: redis.Redis, key_prefix: str
) -> None:
    await take(limiter, 1)

    keys = [key async for key in redis_client.scan_iter(match=f"{key_prefix}*")]
    ttl_ms = await redis_client.pttl(keys[0])

    bucket = RATE_LIMITS[RateLimitScope.FAN]
    assert len(keys) == 1
    assert 0 < ttl_ms <= bucket.burst * 1000 // bucket.per_s + 1_000


async def test_fan_is_never_limited_when_it_polls_every_second_and_places_holds(
    limiter: RateLimiter,
) -> None:
    answers: list[int | None] = []
    for second in range(600):
        now_ms = NOW_MS + second * 1000
        answers += await take(limiter, 3 if second == 0 else 1, now_ms=now_ms)
        if second % 20 == 0:
            answers += await take(limiter, 3, now_ms=now_ms + 400)

    assert set(answers) == {None}


@pytest.mark.parametrize(
    ("scope", "within_s"),
    [(RateLimitScope.FAN, 1), (RateLimitScope.ADDRESS, 10)],
    ids=["fan", "address"],
)
async def test_script_is_limited_when_it_sends_100_requests_a_second(
    limiter: RateLimiter, scope: RateLimitScope, within_s: int
) -> None:
    answers: list[int | None] = []
    for request in range(100 * within_s):
        answers += await take(limiter, 1, scope=scope, now_ms=NOW_MS + request * 10)

    limited = [answer for answer in answers if answer is not None]
    assert limited, f"100 requests a second passed the {scope} bucket for {within_s} s"
    assert min(limited) >= 1


async def test_address_bucket_lets_a_crowd_behind_one_address_shop_when_they_poll(
    limiter: RateLimiter,
) -> None:
    # 50 fans behind one carrier address, each polling once a second for a minute.
    answers: list[int | None] = []
    for second in range(60):
        answers += await take(
            limiter,
            50,
            scope=RateLimitScope.ADDRESS,
            subject="10.0.0.1",
            now_ms=NOW_MS + second * 1000,
        )

    assert set(answers) == {None}
    assert RATE_LIMIT_ADDRESS_BURST >= 50


ADDRESS = (RateLimitScope.ADDRESS, "10.0.0.1")
FAN = (RateLimitScope.FAN, "fan-1")


async def test_fan_bucket_keeps_its_tokens_when_the_address_bucket_is_empty(
    limiter: RateLimiter,
) -> None:
    await take(limiter, RATE_LIMIT_ADDRESS_BURST, scope=RateLimitScope.ADDRESS, subject="10.0.0.1")

    limited = await limiter.check(ADDRESS, FAN, now_ms=NOW_MS)
    fan_alone = await take(limiter, RATE_LIMIT_FAN_BURST + 1)

    assert limited is not None and limited.scope == RateLimitScope.ADDRESS
    assert limited.retry_after_s >= 1
    assert fan_alone.count(None) == RATE_LIMIT_FAN_BURST


async def test_both_buckets_give_a_token_when_a_request_takes_them_together(
    limiter: RateLimiter,
) -> None:
    together = [await limiter.check(ADDRESS, FAN, now_ms=NOW_MS) for _ in range(10)]

    address_left = await take(
        limiter, RATE_LIMIT_ADDRESS_BURST, scope=RateLimitScope.ADDRESS, subject="10.0.0.1"
    )
    fan_left = await take(limiter, RATE_LIMIT_FAN_BURST)

    assert together == [None] * 10
    assert address_left.count(None) == RATE_LIMIT_ADDRESS_BURST - 10
    assert fan_left.count(None) == RATE_LIMIT_FAN_BURST - 10


async def test_fan_limit_is_named_when_the_address_has_tokens_left(limiter: RateLimiter) -> None:
    await take(limiter, RATE_LIMIT_FAN_BURST)

    limited = await limiter.check(ADDRESS, FAN, now_ms=NOW_MS)

    assert limited is not None and limited.scope == RateLimitScope.FAN


async def test_concurrent_requests_get_the_burst_exactly_when_they_share_script_calls(
    limiter: RateLimiter, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    script_calls = 0
    real_evalsha = redis_client.evalsha

    async def counted_evalsha(*arguments: object) -> object:
        nonlocal script_calls
        script_calls += 1
        return await real_evalsha(*arguments)  # type: ignore[arg-type]

    monkeypatch.setattr(redis_client, "evalsha", counted_evalsha)
    requests = RATE_LIMIT_FAN_BURST + 20

    answers = await asyncio.gather(
        *(limiter.check(ADDRESS, FAN, now_ms=NOW_MS) for _ in range(requests))
    )
    calls_for_the_crowd = script_calls
    address_left = await take(
        limiter, RATE_LIMIT_ADDRESS_BURST, scope=RateLimitScope.ADDRESS, subject="10.0.0.1"
    )

    limited = [answer for answer in answers if answer is not None]
    assert answers[:RATE_LIMIT_FAN_BURST] == [None] * RATE_LIMIT_FAN_BURST
    assert len(limited) == 20
    assert {answer.scope for answer in limited} == {RateLimitScope.FAN}
    assert address_left.count(None) == RATE_LIMIT_ADDRESS_BURST - requests
    assert calls_for_the_crowd < requests


async def test_each_request_in_a_shared_call_is_answered_at_its_own_time(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    slow = TokenBucket(burst=1, per_s=1)
    limiter = RateLimiter(
        redis_client, key_prefix=key_prefix, limits=dict.fromkeys(RateLimitScope, slow)
    )
    try:
        answers = await asyncio.gather(
            *(limiter.check(FAN, now_ms=NOW_MS + step * 1_000) for step in range(5))
        )
    finally:
        await delete_keys(redis_client, key_prefix)

    assert answers == [None] * 5


async def test_limits_still_hold_when_redis_has_forgotten_the_script(
    limiter: RateLimiter, redis_client: redis.Redis
) -> None:
    await take(limiter, RATE_LIMIT_FAN_BURST)
    await redis_client.script_flush()

    answers = await take(limiter, 2)

    assert None not in answers


async def test_rate_limited_error_carries_retry_after_when_enforced(limiter: RateLimiter) -> None:
    await take(limiter, RATE_LIMIT_FAN_BURST)

    with pytest.raises(ApiError) as raised:
        await limiter.enforce(("fan", "fan-1"), now_ms=NOW_MS)

    assert raised.value.code == ErrorCode.RATE_LIMITED
    assert raised.value.retry_after_s is not None and raised.value.retry_after_s >= 1
    response = raised.value.response()
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == raised.value.retry_after_s


async def test_every_request_passes_quickly_when_redis_is_unreachable(
    dead_redis_client: redis.Redis,
) -> None:
    limiter = RateLimiter(dead_redis_client)

    started_s = time.perf_counter()
    answers = await take(limiter, RATE_LIMIT_FAN_BURST * 3)
    await limiter.enforce(
        (RateLimitScope.ADDRESS, "10.0.0.1"), (RateLimitScope.FAN, "fan-1"), now_ms=NOW_MS
    )
    elapsed_s = time.perf_counter() - started_s

    assert set(answers) == {None}
    assert elapsed_s < REDIS_DOWN_CALLS_BUDGET_S
