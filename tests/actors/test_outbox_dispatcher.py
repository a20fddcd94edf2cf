"""The outbox dispatcher: at least once, in order per aggregate, backoff, then failed work that is
never given up; a slow tenant or a slow consumer holds up nobody else."""

import asyncio
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


async def test_message_becomes_failed_work_and_lands_later_when_it_fails_every_quick_attempt(
    owner_connection: asyncpg.Connection,
    dispatcher: OutboxDispatcher,
    consumer: RecordingConsumer,
) -> None:
    tenant_id = await create_tenant(owner_connection, "A")
    await write_message(owner_connection, tenant_id, "hold.placed", "hold-x", fail=True)
    await write_message(owner_connection, tenant_id, "hold.placed", "hold-x", fail=False)
    reports = []
    for _ in range(limits.OUTBOX_ATTEMPTS_MAX):
        reports.append(await dispatcher.dispatch_round())
        await make_everything_due(owner_connection)

    await dispatcher.dispatch_round()

    failed = await owner_connection.fetchrow(
        "select attempts, last_error, failed_at is not null as is_failed_work, "
        "available_at - now() as retry_in from outbox where status = 'pending' order by position"
    )
    assert failed["attempts"] == limits.OUTBOX_ATTEMPTS_MAX + 1
    assert (failed["last_error"], failed["is_failed_work"]) == ("refused", True)
    assert failed["retry_in"].total_seconds() * 1_000 >= limits.FAILED_WORK_BACKOFF_BASE_MS
    assert [report.newly_failed for report in reports][-1] == 1
    assert sum(report.newly_failed for report in reports) == 1
    assert not await owner_connection.fetchval(
        "select count(*) from outbox where status = 'dispatched'"
    )

    await owner_connection.execute(
        "update outbox set payload = '{\"fail\": false}', available_at = now() "
        "where status = 'pending' and failed_at is not null"
    )
    await dispatcher.dispatch_round()
    await dispatcher.dispatch_round()

    landed = await owner_connection.fetch("select status, failed_at from outbox order by position")
    assert [(row["status"], row["failed_at"]) for row in landed] == [("dispatched", None)] * 2
    assert len(consumer.received) == limits.OUTBOX_ATTEMPTS_MAX + 3


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


WAIT_FOR_DELIVERY_S = 10.0


class StalledConsumer:
    """Takes every message, but holds those of one tenant until it is let go."""

    def __init__(self, stalled_tenant_id: uuid.UUID) -> None:
        self.stalled_tenant_id = stalled_tenant_id
        self.let_go = asyncio.Event()
        self.received: list[OutboxMessage] = []

    async def __call__(self, messages: list[OutboxMessage]) -> list[str | None]:
        if any(message.tenant_id == self.stalled_tenant_id for message in messages):
            await self.let_go.wait()
        self.received.extend(messages)
        return [None] * len(messages)


async def test_other_tenants_are_delivered_while_one_tenants_consumer_is_slow(
    migrated_database_url: str, owner_connection: asyncpg.Connection
) -> None:
    slow, other = [await create_tenant(owner_connection, name) for name in ("slow", "other")]
    consumer = StalledConsumer(slow)
    dispatcher = OutboxDispatcher(
        database_url=service_url(migrated_database_url), routes={"hold.placed": (consumer,)}
    )
    await write_message(owner_connection, slow, "hold.placed", "hold-1", fail=False)
    await dispatcher.start()
    try:
        await asyncio.sleep(limits.OUTBOX_POLL_INTERVAL_MS / 1_000 * 3)
        await write_message(owner_connection, other, "hold.placed", "hold-2", fail=False)
        other_delivered = await delivered_within(consumer, other)
        consumer.let_go.set()
        slow_delivered = await delivered_within(consumer, slow)
    finally:
        await dispatcher.close()

    assert other_delivered and slow_delivered
    assert [message.tenant_id for message in consumer.received] == [other, slow]


async def test_a_topics_other_consumer_is_served_while_one_consumer_is_slow(
    migrated_database_url: str, owner_connection: asyncpg.Connection
) -> None:
    tenant_id = await create_tenant(owner_connection, "A")
    slow, quick = StalledConsumer(tenant_id), RecordingConsumer()
    dispatcher = OutboxDispatcher(
        database_url=service_url(migrated_database_url), routes={"hold.placed": (slow, quick)}
    )
    await write_message(owner_connection, tenant_id, "hold.placed", "hold-1", fail=False)
    round_of_delivery = asyncio.create_task(dispatcher.dispatch_round())
    try:
        quick_served = await delivered_within(quick, tenant_id)
        dispatched_before_let_go = round_of_delivery.done()
        slow.let_go.set()
        report = await asyncio.wait_for(round_of_delivery, WAIT_FOR_DELIVERY_S)
    finally:
        await dispatcher.close()

    assert quick_served and not dispatched_before_let_go
    assert report.dispatched == 1 and len(slow.received) == 1


async def delivered_within(
    consumer: RecordingConsumer | StalledConsumer, tenant_id: uuid.UUID
) -> bool:
    """Whether the consumer receives a message of the tenant within WAIT_FOR_DELIVERY_S."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_FOR_DELIVERY_S
    while loop.time() < deadline:
        if tenant_id in {message.tenant_id for message in consumer.received}:
            return True
        await asyncio.sleep(0.05)
    return False


def test_retry_delay_grows_and_stays_capped_when_attempts_pile_up() -> None:
    generator = random.Random(7)
    quick = limits.OUTBOX_ATTEMPTS_MAX - 1
    delays = [retry_delay_ms(attempts, generator) for attempts in range(quick)]
    ceilings = [
        min(limits.OUTBOX_BACKOFF_BASE_MS * 2**attempts, limits.OUTBOX_BACKOFF_MAX_MS)
        for attempts in range(quick)
    ]
    assert all(
        ceiling // 2 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True)
    )


def test_failed_work_waits_long_and_stays_capped_when_it_keeps_failing() -> None:
    generator = random.Random(7)
    first = limits.OUTBOX_ATTEMPTS_MAX - 1
    delays = [retry_delay_ms(attempts, generator) for attempts in range(first, first + 10_000)]
    assert delays[0] >= limits.FAILED_WORK_BACKOFF_BASE_MS // 2
    assert delays[0] <= limits.FAILED_WORK_BACKOFF_BASE_MS
    assert all(delay <= limits.FAILED_WORK_BACKOFF_MAX_MS for delay in delays)
    assert min(delays[100:]) >= limits.FAILED_WORK_BACKOFF_MAX_MS // 2
