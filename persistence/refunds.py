"""Refunds: opened (with the Stripe idempotency key) before Stripe is called, completed after.

An order has at most one refund. Completing it, in one transaction, ends the order's live tickets,
reverses the order's ledger entries and marks order and payment refunded; the inventory is given
back only afterwards, so a seat is never on sale while a live ticket still holds it.
"""

import enum
import uuid

import asyncpg
import msgspec

from engine.order_lifecycle import OrderAction
from engine.refund_lifecycle import (
    REFUND_STARTING_STATUS,
    RefundAction,
    RefundStatus,
    refund_status_after,
    refund_statuses_left_by,
)
from persistence.orders import order_move


class RefundKind(enum.StrEnum):
    VENUE = "venue"
    LATE_PAYMENT = "late_payment"
    FAILED_FULFILMENT = "failed_fulfilment"


class RefundRecord(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    kind: str
    status: RefundStatus
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
INSERT INTO refunds (tenant_id, order_id, payment_id, idempotency_key, amount_cents, reason, kind,
                     status)
SELECT current_setting('app.current_tenant_id')::uuid, $1, payments.id, $2, $3, $4, $5, $6
FROM payments WHERE payments.order_id = $1
ON CONFLICT (order_id) DO NOTHING
"""


async def load_refund(connection: asyncpg.Connection, order_id: uuid.UUID) -> RefundRecord | None:
    row = await connection.fetchrow(SELECT_REFUND, order_id)
    if row is None:
        return None
    return RefundRecord(**{**dict(row), "status": RefundStatus(row["status"])})


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
        OPEN_REFUND,
        order_id,
        refund_idempotency_key(order_id),
        amount_cents,
        reason,
        kind,
        REFUND_STARTING_STATUS,
    )
    refund = await load_refund(connection, order_id)
    assert refund is not None, "the order has a payment row, so the refund exists"
    return refund


COMPLETE_REFUND = """
UPDATE refunds SET status = $3, provider_refund_id = $2, updated_at = now()
WHERE order_id = $1 AND status = ANY($4::text[])
RETURNING 1
"""

REFUND_SUCCEEDS_FROM = tuple(sorted(refund_statuses_left_by(RefundAction.SUCCEED)))

REFUND_TICKETS = """
UPDATE tickets SET status = 'refunded', status_reason = 'refund', updated_at = now()
WHERE order_id = $1 AND status IN ('valid', 'locked')
"""

REFUND_MOVE = order_move(OrderAction.REFUND)
# A late payment's order ended unpaid: it takes its payment's moment as paid_at.
MARK_ORDER_REFUNDED = """
WITH refunded AS (
    UPDATE orders
    SET status = $5,
        paid_at = coalesce(paid_at, timestamptz 'epoch' + $2::bigint * interval '1 millisecond'),
        ended_reason = coalesce(ended_reason, $3),
        updated_at = now()
    WHERE id = $1 AND status = ANY($4::text[])
    RETURNING id
)
UPDATE payments SET status = $6, updated_at = now()
FROM refunded, payments AS before
WHERE payments.order_id = refunded.id AND before.id = payments.id
RETURNING before.status
"""


async def complete_refund(
    connection: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    provider_refund_id: str,
    reason: str,
    now_ms: int,
) -> bool:
    """Record Stripe's refund, end the tickets and the order; False if already completed.

    Orders whose money can be refunded are paid ones, and those that ended unpaid but whose
    payment arrived anyway (it is returned, never kept without a ticket): the order table says so.
    """
    completed = await connection.fetchval(
        COMPLETE_REFUND,
        order_id,
        provider_refund_id,
        refund_status_after(RefundAction.SUCCEED),
        REFUND_SUCCEEDS_FROM,
    )
    if completed is None:
        return False
    await connection.execute(REFUND_TICKETS, order_id)
    payment_before = await connection.fetchval(
        MARK_ORDER_REFUNDED,
        order_id,
        now_ms,
        reason,
        REFUND_MOVE.leaving,
        REFUND_MOVE.after,
        REFUND_MOVE.payment_after,
    )
    if payment_before is not None:
        REFUND_MOVE.check_payment_left(payment_before)
    return True


SALE_IS_LIVE = "SELECT EXISTS (SELECT 1 FROM sales WHERE order_id = $1 AND status = 'live')"


async def sale_is_live(connection: asyncpg.Connection, order_id: uuid.UUID) -> bool:
    """Whether the inventory still counts the order's seats and units as sold."""
    return bool(await connection.fetchval(SALE_IS_LIVE, order_id))
