"""The outbox dispatcher: at least once, in order per aggregate, backoff, then dead letters."""

import random
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from actors.outbox_dispatcher import OutboxDispatcher, retry_delay_ms
from engine import limits
from persistence.outbox import OutboxMessage
from persistence.pool import service_url
from tests.persistence.builders import create_tenant


class RecordingConsumer:
    """Takes every message except those whose payload names it as failing."""

    def __init__(self) -> None:
        self.received: list[OutboxMessage] = []

    async def __call__(self, messages: list[OutboxMessage]) -> list[str | None]:
        self.received.extend(messages)
        return ["refused" if '"fail": true' in message.payload else None for message in messages]


async def write_message(
    owner: asyncpg.Connection, tenant_id: uuid.UUID, topic: str, aggregate_id: str, fail: bool
) -> None:
    await owner.execute(
        "insert into outbox (tenant_id, topic, aggregate_id, payload) values ($1, $2, $3, $4)",
        tenant_id,
        topic,
        aggregate_id,
        f'{{"fail": {"true" if fail else "false"}}}',
    )


async def make_everything_due(owner: asyncpg.Connection) -> None:
    await owner.execute("update outbox set available_at = now() where status = 'pending'")


@pytest.fixture
def consumer() -> RecordingConsumer:
    return RecordingConsumer()


@pytest.fixture
async def dispatcher(
    migrated_database_url: str, consumer: RecordingConsumer
) -> AsyncIterator[OutboxDispatcher]:
    dispatcher = OutboxDispatcher(
        database_url=service_url(migrated_database_url),
        routes={"hold.placed": (consumer,), "hold.released": ()},
    )
    yield dispatcher
    await dispatcher.close()


async def test_messages_of_every_tenant_are_delivered_once_when_consumers_take_them(
    owner_connection: asyncpg.Connection,
    dispatcher: OutboxDispatcher,
    consumer: RecordingConsumer,
) -> None:
    tenants = [await create_tenant(owner_connection, name) for name in ("A", "B")]
    for tenant_id in tenants:
        await write_message(owner_connection, tenant_id, "hold.placed", "hold-1", fail=False)
        await write_message(owner_connection, tenant_id, "hold.released", "hold-2", fail=False)

    report = await dispatcher.dispatch_round()

    assert report.dispatched == 4
    assert sorted(message.tenant_id for message in consumer.received) == sorted(tenants)
    assert (
        await owner_connection.fetchval(
            "select count(*) from outbox where status = 'dispatched' and attempts = 1"
        )
        == 4
    )
    assert (await dispatcher.dispatch_round()).dispatched == 0


async def test_later_messages_of_an_aggregate_wait_when_an_earlier_one_fails(
    owner_connection: asyncpg.Connection,
    dispatcher: OutboxDispatcher,
    consumer: RecordingConsumer,
) -> None:
    tenant_id = await create_tenant(owner_connection, "A")
    await write_message(owner_connection, tenant_id, "hold.placed", "hold-x", fail=True)
    await write_message(owner_connection, tenant_id, "hold.placed", "hold-x", fail=False)
    await write_message(owner_connection, tenant_id, "hold.placed", "hold-y", fail=False)

    report = await dispatcher.dispatch_round()

    assert (report.dispatched, report.retried) == (1, 1)
    assert [message.aggregate_id for message in consumer.received] == ["hold-x", "hold-y"]
    failed = await owner_connection.fetchrow(
        "select attempts, last_error, available_at > now() as later from outbox "
        "where aggregate_id = 'hold-x' order by position limit 1"
    )
    assert (failed["attempts"], failed["last_error"], failed["later"]) == (1, "refused", True)
    assert (await dispatcher.dispatch_round()).dispatched == 0


async def test_message_moves_to_dead_letters_when_it_fails_every_attempt(
    owner_connection: asyncpg.Connection,
    dispatcher: OutboxDispatcher,
    consumer: RecordingConsumer,
) -> None:
    tenant_id = await create_tenant(owner_connection, "A")
    await write_message(owner_connection, tenant_id, "hold.placed", "hold-x", fail=True)
    await write_message(owner_connection, tenant_id, "hold.placed", "hold-x", fail=False)

    for _ in range(limits.OUTBOX_ATTEMPTS_MAX):
        await dispatcher.dispatch_round()
        await make_everything_due(owner_connection)

    await dispatcher.dispatch_round()

    dead = await owner_connection.fetchrow("select attempts, last_error from outbox_dead_letters")
    assert (dead["attempts"], dead["last_error"]) == (limits.OUTBOX_ATTEMPTS_MAX, "refused")
    assert (
        await owner_connection.fetchval("select count(*) from outbox where status = 'dispatched'")
        == 1
    )
    assert len(consumer.received) == limits.OUTBOX_ATTEMPTS_MAX + 1


async def test_message_is_retried_when_its_topic_has_no_route(
    owner_connection: asyncpg.Connection, dispatcher: OutboxDispatcher
) -> None:
    tenant_id = await create_tenant(owner_connection, "A")
    await write_message(owner_connection, tenant_id, "order.refunded", "order-1", fail=False)

    report = await dispatcher.dispatch_round()

    assert report.retried == 1
    assert "no consumer is routed" in await owner_connection.fetchval(
        "select last_error from outbox"
    )


def test_retry_delay_grows_and_stays_capped_when_attempts_pile_up() -> None:
    generator = random.Random(7)
    delays = [retry_delay_ms(attempts, generator) for attempts in range(20)]
    assert limits.OUTBOX_BACKOFF_BASE_MS // 2 <= delays[0] <= limits.OUTBOX_BACKOFF_BASE_MS
    assert all(delay <= limits.OUTBOX_BACKOFF_MAX_MS for delay in delays)
    assert delays[-1] >= limits.OUTBOX_BACKOFF_MAX_MS // 2
