"""The epoch fence: each take moves the event one epoch on, a writer of an older epoch is refused
before it writes anything, and a take cannot slip between a writer's check and its commit."""

import uuid

import asyncpg
import pytest

from engine.changes import HoldPlaced
from engine.holds import Hold, HoldItem
from persistence.epochs import StaleEpoch, take_epoch
from persistence.inventory_reads import load_inventory_rows
from persistence.inventory_writes import write_changes
from persistence.pool import service_url
from persistence.tenancy import tenant_transaction
from tests.persistence.builders import (
    CreatedEventOfTenant,
    create_event_of_new_tenant,
    fenced_writer,
    simulation_event,
)

NOW_MS = 2_000_000


@pytest.fixture
async def event(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> CreatedEventOfTenant:
    return await create_event_of_new_tenant(service_pool, owner_connection, simulation_event())


async def take(service_pool: asyncpg.Pool, event: CreatedEventOfTenant, holder: str) -> int:
    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        return await take_epoch(
            connection, tenant_id=event.tenant_id, event_id=event.event_id, holder=holder
        )


def held_seat(event: CreatedEventOfTenant) -> HoldPlaced:
    return HoldPlaced(
        hold=Hold(
            hold_id=str(uuid.uuid4()),
            fan_id="fan-1",
            items=(
                HoldItem(
                    ticket_type_id=event.ticket_type_ids()["RES"],
                    quantity=1,
                    unit_price_cents=8_000,
                ),
            ),
            seats=("101-A-1",),
            expires_at_ms=NOW_MS + 60_000,
        )
    )


async def test_each_take_returns_the_next_epoch_and_names_its_holder_when_taken_in_turn(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection, event: CreatedEventOfTenant
) -> None:
    epochs = [await take(service_pool, event, holder) for holder in ("actor-a", "actor-b")]
    holder = await owner_connection.fetchval(
        "SELECT holder FROM event_epochs WHERE event_id = $1", event.event_id
    )

    assert epochs == [1, 2]
    assert holder == "actor-b"


async def test_write_is_refused_and_nothing_changes_when_its_epoch_is_stale(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection, event: CreatedEventOfTenant
) -> None:
    stale = await take(service_pool, event, "actor-a")
    await take(service_pool, event, "actor-b")
    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        rows_before = await load_inventory_rows(connection, event_id=event.event_id)
    outbox_before = await owner_connection.fetchval("SELECT count(*) FROM outbox")

    with pytest.raises(StaleEpoch, match=f"holds {stale}"):
        async with fenced_writer(service_pool, event, stale) as transaction:
            await write_changes(transaction, changes=[held_seat(event)], now_ms=NOW_MS)

    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        rows_after = await load_inventory_rows(connection, event_id=event.event_id)
    assert rows_after == rows_before
    assert await owner_connection.fetchval("SELECT count(*) FROM outbox") == outbox_before
    assert await owner_connection.fetchval("SELECT count(*) FROM holds") == 0


async def test_write_is_recorded_when_its_epoch_is_the_newest(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    await take(service_pool, event, "actor-a")
    current = await take(service_pool, event, "actor-b")
    async with fenced_writer(service_pool, event, current) as transaction:
        await write_changes(transaction, changes=[held_seat(event)], now_ms=NOW_MS)
        rows = await load_inventory_rows(transaction.connection, event_id=event.event_id)

    assert [hold.seats for hold in rows.holds] == [("101-A-1",)]


async def test_take_waits_for_the_writer_when_a_batch_checked_its_epoch_and_has_not_committed(
    service_pool: asyncpg.Pool, migrated_database_url: str, event: CreatedEventOfTenant
) -> None:
    epoch = await take(service_pool, event, "actor-a")
    async with fenced_writer(service_pool, event, epoch):
        taker = await asyncpg.connect(migrated_database_url)
        try:
            async with taker.transaction():
                await taker.execute("SET LOCAL lock_timeout = '100ms'")
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await take_epoch(
                        taker, tenant_id=event.tenant_id, event_id=event.event_id, holder="b"
                    )
        finally:
            await taker.close()

    assert await take(service_pool, event, "actor-b") == epoch + 1


async def test_connection_of_a_refused_writer_is_rolled_back_and_serves_the_next_transaction(
    event: CreatedEventOfTenant, migrated_database_url: str, service_pool: asyncpg.Pool
) -> None:
    await take(service_pool, event, "actor-a")
    connection = await asyncpg.connect(service_url(migrated_database_url))
    try:
        with pytest.raises(StaleEpoch):
            async with fenced_writer(connection, event, 0):
                pytest.fail("a stale writer's transaction must not open")
        assert not connection.is_in_transaction()
        async with tenant_transaction(connection, event.tenant_id):
            assert await connection.fetchval("SELECT count(*) FROM holds") == 0
    finally:
        await connection.close()


async def test_writer_of_an_epoch_not_yet_taken_is_refused(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    with pytest.raises(StaleEpoch, match="is at epoch 0; this writer holds 1"):
        async with fenced_writer(service_pool, event, 1):
            pytest.fail("a writer of an epoch no actor took must not write")
