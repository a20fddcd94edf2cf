"""Which tenants a standing loop must visit, asked of every tenant in one round trip through the
tenant fence: those with an outbox message due, for the dispatcher; those with a payment or a
refund unsettled, for the payment reconciler; those with anything a Supervisor's round looks
after, for the Supervisor."""

import time
import uuid

import asyncpg

from persistence.tenancy import tenant_transaction
from persistence.tenant_probes import (
    tenants_to_supervise,
    tenants_with_due_messages,
    tenants_with_unsettled_payments,
)
from tests.persistence.builders import Sale, create_tenant, place_seat_hold


async def write_message(
    owner: asyncpg.Connection, tenant_id: uuid.UUID, *, due_in: str, status: str = "pending"
) -> None:
    await owner.execute(
        "insert into outbox (tenant_id, topic, aggregate_id, payload, available_at, status, "
        "dispatched_at) values ($1, 'hold.placed', $2, '{}', now() + $3::text::interval, $4, "
        "case when $4 = 'dispatched' then now() end)",
        tenant_id,
        str(uuid.uuid4()),
        due_in,
        status,
    )


async def test_only_tenants_with_a_pending_message_due_now_are_named(
    owner_connection: asyncpg.Connection, service_pool: asyncpg.Pool
) -> None:
    due = await create_tenant(owner_connection, "due")
    later = await create_tenant(owner_connection, "later")
    delivered = await create_tenant(owner_connection, "delivered")
    await create_tenant(owner_connection, "quiet")
    await write_message(owner_connection, due, due_in="-1 second")
    await write_message(owner_connection, later, due_in="1 hour")
    await write_message(owner_connection, delivered, due_in="-1 second", status="dispatched")

    async with service_pool.acquire() as connection:
        assert await tenants_with_due_messages(connection) == [due]


async def test_every_due_tenant_is_named_once_in_one_call(
    owner_connection: asyncpg.Connection, service_pool: asyncpg.Pool
) -> None:
    tenants = [await create_tenant(owner_connection, f"venue {n}") for n in range(30)]
    for tenant_id in tenants[::3]:
        await write_message(owner_connection, tenant_id, due_in="0 seconds")
        await write_message(owner_connection, tenant_id, due_in="-1 minute")

    async with service_pool.acquire() as connection:
        assert await tenants_with_due_messages(connection) == sorted(tenants[::3])


async def test_the_callers_tenant_is_given_back_after_the_probe(
    owner_connection: asyncpg.Connection, service_pool: asyncpg.Pool
) -> None:
    mine = await create_tenant(owner_connection, "mine")
    other = await create_tenant(owner_connection, "other")
    await write_message(owner_connection, other, due_in="-1 second")

    async with tenant_transaction(service_pool, mine) as connection:
        assert await tenants_with_due_messages(connection) == [other]
        assert await connection.fetchval("select count(*) from outbox") == 0
        acting_for = await connection.fetchval("select current_setting('app.current_tenant_id')")
    assert acting_for == str(mine)


async def test_tenants_with_an_order_or_a_refund_unsettled_are_named_until_it_settles(
    owner_connection: asyncpg.Connection,
    service_pool: asyncpg.Pool,
    sale_of_tenant_a: Sale,
    sale_of_tenant_b: Sale,
) -> None:
    await create_tenant(owner_connection, "quiet")
    a, b = sale_of_tenant_a, sale_of_tenant_b

    async def named() -> list[uuid.UUID]:
        async with service_pool.acquire() as connection:
            return await tenants_with_unsettled_payments(connection)

    assert await named() == sorted([a.tenant_id, b.tenant_id])
    await owner_connection.execute(
        "update orders set status = 'fulfilled' where id = ANY($1::uuid[])",
        [a.order_id, b.order_id],
    )
    assert await named() == sorted([a.tenant_id, b.tenant_id]), "their refunds are pending"
    await owner_connection.execute(
        "update refunds set status = 'succeeded', stock_returned = true where order_id = $1",
        a.order_id,
    )
    await owner_connection.execute(
        "update refunds set status = 'succeeded' where order_id = $1", b.order_id
    )
    assert await named() == [b.tenant_id], "b's stock is not back yet"
    await owner_connection.execute(
        "update refunds set stock_returned = true where order_id = $1", b.order_id
    )
    assert await named() == []


async def test_tenants_are_supervised_while_they_hold_queue_send_or_have_tickets_to_expire(
    owner_connection: asyncpg.Connection, service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    await create_tenant(owner_connection, "quiet")
    sale = sale_of_tenant_a
    now_ms = int(time.time() * 1_000)
    after_the_show_ms = now_ms + 40 * 24 * 3_600_000

    async def supervised(at_ms: int = now_ms) -> list[uuid.UUID]:
        async with service_pool.acquire() as connection:
            return await tenants_to_supervise(connection, now_ms=at_ms)

    assert await supervised() == [sale.tenant_id], "an open event with a waiting room"
    await owner_connection.execute(
        "update events set opens_at = now() - interval '2 minutes', "
        "closes_at = now() - interval '1 minute' where id = $1",
        sale.event_id,
    )
    assert await supervised() == [sale.tenant_id], "a pending outbox message"
    await owner_connection.execute(
        "update outbox set status = 'dispatched', dispatched_at = now() where tenant_id = $1",
        sale.tenant_id,
    )
    assert await supervised() == []
    assert await supervised(after_the_show_ms) == [sale.tenant_id], "unused tickets to expire"

    async with tenant_transaction(service_pool, sale.tenant_id) as connection:
        await place_seat_hold(connection, sale, sale.free_seat_id)
    assert await supervised() == [sale.tenant_id], "a live hold"
