"""Completing a refund in the caller's transaction: the refund succeeds, its tickets end
`refunded`, and the order moves to `refunded` once no live ticket is left (its payment with it),
else to `partially_refunded`. Every write is guarded by the state it leaves, so a second
completion (a redelivered message, the reconciler) changes nothing and says so.
"""

import asyncpg

from engine.order_lifecycle import OrderAction, order_status_after, order_statuses_left_by
from engine.tickets import LIVE_STATUSES
from persistence.orders import order_move
from persistence.refunds import RefundRecord, mark_refund_succeeded

# A ticket the venue may still lock or scan is refunded; one already used to enter stays.
REFUNDABLE_TICKET_STATUSES = ("valid", "locked")
LIVE_TICKET_STATUSES = tuple(sorted(LIVE_STATUSES))

REFUND_ORDER_TICKETS = """
UPDATE tickets SET status = 'refunded', status_reason = 'refund', updated_at = now()
WHERE order_id = $1 AND status = ANY($2::text[])
"""

REFUND_LISTED_TICKETS = """
UPDATE tickets SET status = 'refunded', status_reason = 'refund', updated_at = now()
FROM refund_tickets
WHERE refund_tickets.refund_id = $1 AND tickets.id = refund_tickets.ticket_id
  AND tickets.status = ANY($2::text[])
"""

HAS_LIVE_TICKETS = """
SELECT EXISTS (SELECT 1 FROM tickets WHERE order_id = $1 AND status = ANY($2::text[]))
"""

REFUND_MOVE = order_move(OrderAction.REFUND)
PART_LEAVING = tuple(sorted(order_statuses_left_by(OrderAction.REFUND_PART)))
PART_AFTER = order_status_after(OrderAction.REFUND_PART)

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

MARK_ORDER_PARTLY_REFUNDED = """
UPDATE orders SET status = $2, updated_at = now() WHERE id = $1 AND status = ANY($3::text[])
"""


async def complete_refund(
    connection: asyncpg.Connection,
    *,
    refund: RefundRecord,
    provider_refund_id: str,
    now_ms: int,
) -> bool:
    """Record Stripe's refund, end its tickets and move the order; False if already completed.

    Orders whose money can be refunded are paid ones, and those that ended unpaid but whose
    payment arrived anyway (it is returned, never kept without a ticket): the order table says so.
    """
    if not await mark_refund_succeeded(
        connection, refund_id=refund.refund_id, provider_refund_id=provider_refund_id
    ):
        return False
    if refund.whole_order:
        await connection.execute(REFUND_ORDER_TICKETS, refund.order_id, REFUNDABLE_TICKET_STATUSES)
    else:
        await connection.execute(
            REFUND_LISTED_TICKETS, refund.refund_id, REFUNDABLE_TICKET_STATUSES
        )
    await move_order(connection, refund=refund, now_ms=now_ms)
    return True


async def move_order(connection: asyncpg.Connection, *, refund: RefundRecord, now_ms: int) -> None:
    """`refunded` once the whole order or its last live ticket went back, else partly."""
    has_live_tickets = await connection.fetchval(
        HAS_LIVE_TICKETS, refund.order_id, LIVE_TICKET_STATUSES
    )
    whole = refund.whole_order or (bool(refund.ticket_ids) and not has_live_tickets)
    if not whole:
        await connection.execute(
            MARK_ORDER_PARTLY_REFUNDED, refund.order_id, PART_AFTER, PART_LEAVING
        )
        return
    payment_before = await connection.fetchval(
        MARK_ORDER_REFUNDED,
        refund.order_id,
        now_ms,
        refund.reason,
        REFUND_MOVE.leaving,
        REFUND_MOVE.after,
        REFUND_MOVE.payment_after,
    )
    if payment_before is not None:
        REFUND_MOVE.check_payment_left(payment_before)
