"""Migration 0033 on orders and notices written before it: an order's email is found in any case
through its stored key, a notice leads to the order it names, and every earlier buyer is in the
directory of the tenants that sold to them, as every later one is."""

import pathlib

import asyncpg

from persistence.migrate import migrate
from tests.persistence.builders import (
    INSERT_EVENT,
    INSERT_HOLD,
    INSERT_ORDER,
    INSERT_TICKET_TYPE,
    INSERT_VENUE,
    create_tenant,
)
from tests.persistence.migration_steps import migrations_before

DESK_MIGRATION = "0033_order_desk.sql"

INSERT_LATER_ORDER = """
INSERT INTO orders (tenant_id, event_id, hold_id, user_id, status, currency, subtotal_cents,
                    fees_cents, total_cents, expires_at, contact_name)
VALUES ($1, $2, $3, 'fan-2', 'pending_payment', 'USD', 5000, 250, 5250,
        now() + interval '15 minutes', 'Marie Curie')
RETURNING id
"""

INSERT_NOTICE = """
INSERT INTO notifications (tenant_id, dedupe_key, channel, kind, recipient, payload)
VALUES ($1, 'order_confirmed:' || $2 || ':email', 'email', 'order_confirmed', 'Fan@Example.COM',
        jsonb_build_object('order_id', $2::text))
"""


async def test_earlier_orders_get_their_keys_and_their_buyers_a_place_in_the_directory(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    await migrate(empty_database_url, directory=migrations_before(tmp_path, DESK_MIGRATION))
    connection = await asyncpg.connect(empty_database_url)
    try:
        tenant_id = await create_tenant(connection, "Tenant before the desk")
        await connection.execute(
            "SELECT set_config('app.current_tenant_id', $1, false)", str(tenant_id)
        )
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_id = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
        ticket_type_id = await connection.fetchval(
            INSERT_TICKET_TYPE, tenant_id, event_id, "GA", "general", 5000, 100
        )
        hold_ids = [
            await connection.fetchval(
                INSERT_HOLD, tenant_id, event_id, "fan-1", 1, ticket_type_id, 5000
            )
            for _ in range(2)
        ]
        earlier = await connection.fetchval(INSERT_ORDER, tenant_id, event_id, hold_ids[0])
        await connection.execute(
            "UPDATE orders SET contact_email = 'Fan@Example.COM' WHERE id = $1", earlier
        )
        await connection.execute(INSERT_NOTICE, tenant_id, str(earlier))
        await migrate(empty_database_url)

        directory_before = await connection.fetch("SELECT * FROM order_buyer_directory")
        later = await connection.fetchval(INSERT_LATER_ORDER, tenant_id, event_id, hold_ids[1])
        keys = await connection.fetch(
            "SELECT id, email_key, name_key FROM orders ORDER BY created_at, id"
        )
        notice_order = await connection.fetchval("SELECT order_key FROM notifications")
        directory_after = await connection.fetch(
            "SELECT * FROM order_buyer_directory ORDER BY buyer_user_id"
        )
    finally:
        await connection.close()

    assert [tuple(row) for row in directory_before] == [("fan-1", tenant_id)]
    assert [tuple(row) for row in directory_after] == [("fan-1", tenant_id), ("fan-2", tenant_id)]
    assert {row["id"]: (row["email_key"], row["name_key"]) for row in keys} == {
        earlier: ("fan@example.com", None),
        later: (None, "marie curie"),
    }
    assert notice_order == str(earlier)
