"""Session-wide real dependencies: one Postgres server and one Redis for the whole run.

Each comes from DATABASE_URL / REDIS_URL when set (CI runs the suite both ways), else it is
started embedded, exactly as `onsale up` would, and stopped at the end of the session, whatever
the tests did. A part is a child process that dies with this one, so even a session killed
outright leaves none behind.
"""

import asyncio
import contextlib
import logging
import os
import pathlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator

import asyncpg
import pytest
import ray

from actors.placement import node_resources
from embedded.postgres_part import EmbeddedPostgres
from embedded.redis_part import EmbeddedRedis
from persistence.dsn import with_database

logging.getLogger("pgserver").setLevel(logging.WARNING)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
RAY_OBJECT_STORE_BYTES = 256 * 1024 * 1024
# The suite creates far more events than a production node hosts at once; each test's actors
# retire or are stopped after it, but the slots must never be what a test waits on.
EVENT_ACTORS_IN_THE_SUITE_MAX = 5_000


@contextlib.contextmanager
def private_directory(prefix: str) -> Iterator[pathlib.Path]:
    """A directory of this session alone: pytest's own base temp is reaped by concurrent runs."""
    path = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """An owner URL on a real server; tests create their own databases on it."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    with private_directory("onsale-test-postgres-") as directory:
        postgres = EmbeddedPostgres(directory / "data")
        try:
            yield postgres.start()
        finally:
            postgres.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    with private_directory("onsale-test-redis-") as directory:
        redis = EmbeddedRedis(directory)
        try:
            yield redis.start()
        finally:
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
def ray_cluster() -> Iterator[None]:
    """One local Ray cluster for the whole session; actors import the project as the tests do."""
    ray.init(
        address="local",
        namespace=f"onsale-test-{secrets.token_hex(4)}",
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=RAY_OBJECT_STORE_BYTES,
        resources=node_resources(EVENT_ACTORS_IN_THE_SUITE_MAX),
        runtime_env={"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}},
    )
    yield
    ray.shutdown()


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """`onsale` run in-process points the root logger at the stderr pytest captures for that one
    test; later tests must not log into that stream once it is closed."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
