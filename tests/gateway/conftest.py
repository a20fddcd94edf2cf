"""The HTTP tests' stack: one app served for the whole session on its own migrated database."""

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
import ray

from actors.names import NAMESPACE, inventory_actor_name, waiting_room_actor_name
from embedded.loopback import free_port
from embedded.smtp_part import EmbeddedSmtpSink
from embedded.stripe_part import EmbeddedStripe
from tests.conftest import private_directory
from tests.gateway.http_journeys import CREATED_EVENT_IDS
from tests.gateway.stack import (
    Outside,
    Stack,
    gateway_settings,
    new_migrated_database,
    serving,
    stack_parts,
)
from tests.persistence.conftest import migrated_database_url, owner_connection, service_pool

__all__ = ["migrated_database_url", "owner_connection", "service_pool"]


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
    owner_url = asyncio.run(new_migrated_database(postgres_server_url))
    port = free_port()
    parts = stack_parts(owner_url, redis_url, port, outside)
    with serving(gateway_settings(), parts, port) as base_url:
        yield Stack(base_url, parts, outside)


CLOSE_EVENTS = """
UPDATE events SET opens_at = now() - interval '2 minutes', closes_at = now() - interval '1 minute'
WHERE id = ANY($1::uuid[])
"""


async def close_events(owner_url: str, event_ids: list[str]) -> None:
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.execute(CLOSE_EVENTS, [uuid.UUID(event_id) for event_id in event_ids])
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
