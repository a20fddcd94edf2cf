"""Redis clients for gateway tests: one on the session's Redis, one aimed at a port where nothing
listens (Redis down). A test module imports the fixtures it uses from here."""

import socket
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def closed_port() -> int:
    """A port that was free a moment ago: connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
async def dead_redis_client() -> AsyncIterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=1)
    yield client
    await client.aclose()


async def delete_keys(client: redis.Redis, key_prefix: str) -> None:
    """Remove one test's keys only: the Redis may be shared with other runs."""
    async for key in client.scan_iter(match=f"{key_prefix}*"):
        await client.delete(key)
