"""The Redis circuit: a failure skips Redis for a window, then Redis is tried again. Time is a
fake monotonic clock; Redis is the real one, or a port where nothing listens."""

import asyncio
import logging

import pytest
import redis.asyncio as redis

from gateway.redis_circuit import RedisCircuit, RedisSkipped
from tests.gateway.redis_clients import dead_redis_client, redis_client

__all__ = ["dead_redis_client", "redis_client"]

OPEN_MS = 2_000


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


async def test_redis_is_skipped_without_a_call_when_it_failed_within_the_window(
    dead_redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    circuit = RedisCircuit("test", open_ms=OPEN_MS, monotonic_s=clock)
    attempts = 0

    async def ping() -> bool:
        nonlocal attempts
        attempts += 1
        return bool(await dead_redis_client.ping())

    with caplog.at_level(logging.WARNING, logger="gateway.redis_circuit"):
        for _ in range(5):
            with pytest.raises(RedisSkipped):
                await circuit.call(ping)
        clock.now_s += OPEN_MS / 1000
        with pytest.raises(RedisSkipped):
            await circuit.call(ping)

    assert attempts == 2
    assert len([record for record in caplog.records if record.name == "gateway.redis_circuit"]) == 2


async def test_redis_is_used_again_when_the_window_has_passed_and_it_answers(
    redis_client: redis.Redis,
) -> None:
    clock = Clock()
    circuit = RedisCircuit("test", open_ms=OPEN_MS, monotonic_s=clock)

    async def fail() -> bool:
        raise ConnectionRefusedError

    with pytest.raises(RedisSkipped):
        await circuit.call(fail)
    assert circuit.is_open()
    clock.now_s += OPEN_MS / 1000

    assert await circuit.call(redis_client.ping) is True
    assert not circuit.is_open()


async def test_call_is_skipped_when_redis_answers_slower_than_the_timeout() -> None:
    circuit = RedisCircuit("test", timeout_ms=20)

    async def stall() -> None:
        await asyncio.sleep(1)

    with pytest.raises(RedisSkipped):
        await circuit.call(stall)
    assert circuit.is_open()


async def test_error_propagates_and_the_circuit_stays_closed_when_it_is_not_redis_failing() -> None:
    circuit = RedisCircuit("test")

    async def bug() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="bug"):
        await circuit.call(bug)
    assert not circuit.is_open()
