"""Session-wide real dependencies: one Postgres server and one Redis for the whole run.

Each comes from DATABASE_URL / REDIS_URL when set (CI runs the suite both ways), else it is
started embedded, exactly as `onsale up` would, and stopped at the end of the session.
"""

import asyncio
import logging
import os
import pathlib
import secrets
from collections.abc import Iterator

import asyncpg
import pytest

from gateway.embedded import EmbeddedPostgres, EmbeddedRedis
from persistence.dsn import with_database

logging.getLogger("pgserver").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An owner URL on a real server; tests create their own databases on it."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    postgres = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"))
    yield postgres.start()
    postgres.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    redis = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield redis.start()
    redis.stop()


async def _create_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
def empty_database_url(postgres_server_url: str) -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    name = f"onsale_test_{secrets.token_hex(6)}"
    asyncio.run(_create_database(postgres_server_url, name))
    yield with_database(postgres_server_url, name)
    asyncio.run(_drop_database(postgres_server_url, name))


@pytest.fixture(scope="session")
def project_root() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parent.parent
