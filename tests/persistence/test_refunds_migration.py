"""Migration 0030 on refunds recorded before it: each still reads as the refund of its whole
order (its entries the reversal of the whole sale, its stock back exactly when no sale of the
order is live), and an order may now have a second refund and be `partially_refunded`."""

import pathlib
import uuid

import asyncpg

from engine.refund_lifecycle import RefundStatus
from persistence.migrate import migrate
from persistence.refunds import load_order_refunds
from tests.persistence.builders import (
    INSERT_EVENT,
    INSERT_HOLD,
    INSERT_ORDER,
    INSERT_PAYMENT,
    INSERT_TICKET_TYPE,
    INSERT_VENUE,
    create_tenant,
)
from tests.persistence.migration_steps import migrations_before

REFUNDS_MIGRATION = "0030_partial_refunds.sql"

INSERT_OLD_REFUND = """
INSERT INTO refunds (tenant_id, order_id, payment_id, provider_refund_id, idempotency_key, status,
                     amount_cents, reason, kind)
VALUES ($1, $2, $3, 're_old', 'old-refund-key', 'succeeded', 18900, 'moved',
        'venue')
"""

INSERT_SECOND_REFUND = """
INSERT INTO refunds (tenant_id, order_id, payment_id, idempotency_key, status, amount_cents,
                     reason, kind, whole_order, face_cents, platform_fee_cents,
                     processing_fee_cents)
VALUES ($1, $2, $3, 'refund-second', 'pending', 100, 'goodwill', 'stripe_dashboard', false, 100,
        0, 0)
"""


async def test_refunds_before_the_migration_read_as_whole_order_refunds(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    await migrate(empty_database_url, directory=migrations_before(tmp_path, REFUNDS_MIGRATION))
    connection = await asyncpg.connect(empty_database_url)
    try:
        tenant_id = await create_tenant(connection, "Tenant before partial refunds")
        await connection.execute(
            "SELECT set_config('app.current_tenant_id', $1, false)", str(tenant_id)
        )
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_id = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
        ticket_type_id = await connection.fetchval(
            INSERT_TICKET_TYPE, tenant_id, event_id, "GA", "general", 5000, 100
        )
        hold_id = await connection.fetchval(
            INSERT_HOLD, tenant_id, event_id, "fan-1", 1, ticket_type_id, 5000
        )
        order_id = await connection.fetchval(INSERT_ORDER, tenant_id, event_id, hold_id)
        payment_id = await connection.fetchval(
            INSERT_PAYMENT, tenant_id, order_id, "pi_old", f"order-{order_id}-payment-intent"
        )
        await connection.execute(INSERT_OLD_REFUND, tenant_id, order_id, payment_id)
        await migrate(empty_database_url)

        (old,) = await load_order_refunds(connection, order_id)
        await connection.execute(INSERT_SECOND_REFUND, tenant_id, order_id, payment_id)
        await connection.execute(
            "UPDATE orders SET status = 'partially_refunded' WHERE id = $1", order_id
        )
        refunds = await load_order_refunds(connection, order_id)
        status = await connection.fetchval("SELECT status FROM orders WHERE id = $1", order_id)
    finally:
        await connection.close()

    assert (old.status, old.whole_order, old.refund_fees) == (RefundStatus.SUCCEEDED, True, True)
    assert old.amounts is None and old.ticket_ids == () and old.provider_refund_id == "re_old"
    assert old.stock_returned, "the order has no live sale: its stock is back"
    assert [refund.kind for refund in refunds] == ["venue", "stripe_dashboard"]
    assert refunds[1].amounts is not None and refunds[1].amounts.total_cents == 100
    assert status == "partially_refunded"
    assert isinstance(refunds[1].refund_id, uuid.UUID)
