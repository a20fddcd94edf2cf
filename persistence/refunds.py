"""Refunds: opened (with the Stripe idempotency key) before Stripe is called, completed after.

An order has at most one refund. Completing it, in one transaction, ends the order's live tickets,
reverses the order's ledger entries and marks order and payment refunded; the inventory is given
back only afterwards, so a seat is never on sale while a live ticket still holds it.
"""

import enum
import uuid

import asyncpg
import msgspec

# Orders whose money can be refunded: paid ones, and those that ended unpaid but whose payment
# arrived anyway (it is returned, never kept without a ticket).
REFUNDABLE_ORDER_STATUSES = ("paid", "fulfilled", "payment_failed", "expired", "cancelled")


class RefundKind(enum.StrEnum):
    VENUE = "venue"
    LATE_PAYMENT = "late_payment"
    FAILED_FULFILMENT = "failed_fulfilment"


class RefundRecord(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    kind: str
    status: str
    amount_cents: int
    reason: str
    idempotency_key: str
    provider_refund_id: str | None


def refund_idempotency_key(order_id: uuid.UUID) -> str:
    return f"order-{order_id}-refund"


SELECT_REFUND = """
SELECT id AS refund_id, order_id, payment_id, kind, status, amount_cents, reason, idempotency_key,
       provider_refund_id
FROM refunds WHERE order_id = $1
"""

OPEN_REFUND = """
INSERT INTO refunds (tenant_id, order_id, payment_id, idempotency_key, amount_cents, reason, kind)
SELECT current_setting('app.current_tenant_id')::uuid, $1, payments.id, $2, $3, $4, $5
FROM payments WHERE payments.order_id = $1
ON CONFLICT (order_id) DO NOTHING
"""


async def load_refund(connection: asyncpg.Connection, order_id: uuid.UUID) -> RefundRecord | None:
    row = await connection.fetchrow(SELECT_REFUND, order_id)
    return None if row is None else RefundRecord(**dict(row))


async def open_refund(
    connection: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    amount_cents: int,
    reason: str,
    kind: str,
) -> RefundRecord:
    """The order's refund, opened now or earlier (the first one's kind and reason stay)."""
    await connection.execute(
        OPEN_REFUND, order_id, refund_idempotency_key(order_id), amount_cents, reason, kind
    )
    refund = await load_refund(connection, order_id)
    assert refund is not None, "the order has a payment row, so the refund exists"
    return refund


COMPLETE_REFUND = """
UPDATE refunds SET status = 'succeeded', provider_refund_id = $2, updated_at = now()
WHERE order_id = $1 AND status = 'pending'
RETURNING 1
"""

REFUND_TICKETS = """
UPDATE tickets SET status = 'refunded', status_reason = 'refund', updated_at = now()
WHERE order_id = $1 AND status IN ('valid', 'locked')
"""

MARK_ORDER_REFUNDED = """
WITH refunded AS (
    UPDATE orders
    SET status = 'refunded',
        paid_at = coalesce(paid_at, timestamptz 'epoch' + $2::bigint * interval '1 millisecond'),
        ended_reason = coalesce(ended_reason, $3),
        updated_at = now()
    WHERE id = $1 AND status = ANY($4::text[])
    RETURNING id
)
UPDATE payments SET status = 'refunded', updated_at = now()
FROM refunded WHERE payments.order_id = refunded.id
"""


async def complete_refund(
    connection: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    provider_refund_id: str,
    reason: str,
    now_ms: int,
) -> bool:
    """Record Stripe's refund, end the tickets and the order; False if already completed."""
    completed = await connection.fetchval(COMPLETE_REFUND, order_id, provider_refund_id)
    if completed is None:
        return False
    await connection.execute(REFUND_TICKETS, order_id)
    await connection.execute(
        MARK_ORDER_REFUNDED, order_id, now_ms, reason, list(REFUNDABLE_ORDER_STATUSES)
    )
    return True


SALE_IS_LIVE = "SELECT EXISTS (SELECT 1 FROM sales WHERE order_id = $1 AND status = 'live')"


async def sale_is_live(connection: asyncpg.Connection, order_id: uuid.UUID) -> bool:
    """Whether the inventory still counts the order's seats and units as sold."""
    return bool(await connection.fetchval(SALE_IS_LIVE, order_id))
