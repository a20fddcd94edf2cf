"""Session-wide real dependencies: one Postgres server and one Redis for the whole run, and the
HTTP stack (one app served on its own migrated database, with Stripe and an SMTP sink outside it)
that the HTTP, demo and load-test tests share.

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
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
import ray

from actors.names import NAMESPACE, inventory_actor_name, waiting_room_actor_name
from actors.placement import node_resources
from actors.worker_logs import worker_logging_runtime_env
from embedded.loopback import free_port
from embedded.postgres_part import EmbeddedPostgres
from embedded.redis_part import EmbeddedRedis
from embedded.smtp_part import EmbeddedSmtpSink
from embedded.stripe_part import EmbeddedStripe
from persistence.scratch_databases import (
    create_database,
    create_migrated_database,
    drop_database,
)
from tests.gateway.http_journeys import CREATED_EVENT_IDS
from tests.gateway.stack import (
    Outside,
    Stack,
    gateway_settings,
    serving,
    stack_parts,
    wait_for_standing_work,
)

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


@pytest.fixture
def empty_database_url(postgres_server_url: str) -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    url = asyncio.run(create_database(postgres_server_url, "onsale_test"))
    yield url
    asyncio.run(drop_database(postgres_server_url, url))


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local Ray cluster for the whole session; actors import the project as the tests do,
    and log as they do under `onsale up`."""
    ray.init(
        address="local",
        namespace=f"onsale-test-{secrets.token_hex(4)}",
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=RAY_OBJECT_STORE_BYTES,
        resources=node_resources(EVENT_ACTORS_IN_THE_SUITE_MAX),
        runtime_env=worker_logging_runtime_env("INFO", PYTHONPATH=str(PROJECT_ROOT)),
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


@pytest.fixture(scope="session")
def outside() -> Iterator[Outside]:
    with private_directory("onsale-test-outside-") as directory:
        stripe = EmbeddedStripe(directory / "stripe", free_port())
        sink = EmbeddedSmtpSink(directory / "mail", free_port())
        try:
            stripe_api_base = stripe.start()
            smtp_url = sink.start()
            yield Outside(
                stripe_api_base=stripe_api_base,
                stripe_api_key="sk_test_onsale_tests",
                stripe_webhook_secret="whsec_" + secrets.token_hex(24),
                smtp_url=smtp_url,
                mail_directory=directory / "mail",
                solana_directory=directory / "solana",
            )
        finally:
            sink.stop()
            stripe.stop()


@pytest.fixture(scope="session")
def stack(
    ray_cluster: None, postgres_server_url: str, redis_url: str, outside: Outside
) -> Iterator[Stack]:
    owner_url = asyncio.run(create_migrated_database(postgres_server_url, "onsale_http"))
    port = free_port()
    parts = stack_parts(owner_url, redis_url, port, outside)
    with serving(gateway_settings(), parts, port) as base_url:
        wait_for_standing_work(base_url)
        yield Stack(base_url, parts, outside)


CLOSE_EVENTS = """
UPDATE events SET opens_at = now() - interval '2 minutes', closes_at = now() - interval '1 minute'
WHERE id = ANY($1::uuid[])
"""
# A ticket type's own window lies inside its event's, so closing the event drops the types' own.
DROP_TYPE_WINDOWS = """
UPDATE ticket_types SET on_sale_from = NULL, on_sale_until = NULL WHERE event_id = ANY($1::uuid[])
"""


async def close_events(owner_url: str, event_ids: list[str]) -> None:
    connection = await asyncpg.connect(owner_url)
    ids = [uuid.UUID(event_id) for event_id in event_ids]
    try:
        async with connection.transaction():
            await connection.execute(DROP_TYPE_WINDOWS, ids)
            await connection.execute(CLOSE_EVENTS, ids)
    finally:
        await connection.close()


@pytest.fixture(autouse=True)
def retire_created_events(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close the test's events and stop their actors, so a long run keeps few processes."""
    yield
    if not CREATED_EVENT_IDS:
        return
    stack: Stack = request.getfixturevalue("stack")
    event_ids = list(CREATED_EVENT_IDS)
    CREATED_EVENT_IDS.clear()
    asyncio.run(close_events(stack.parts.database_url, event_ids))
    for event_id in event_ids:
        for name in (inventory_actor_name(event_id), waiting_room_actor_name(event_id)):
            with contextlib.suppress(ValueError):
                ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
