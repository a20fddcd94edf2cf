"""An event's refunds by where they stand, as its stats show them: `pending` counts the refunds
opened and not yet answered by Stripe, and, once the event is cancelled, its paid orders whose
refund is not opened yet, so a cancellation's progress runs from all pending to none.
"""

import uuid

import asyncpg
import msgspec


class RefundFigures(msgspec.Struct, frozen=True, kw_only=True):
    pending: int = 0
    refunded: int = 0
    failed: int = 0


SELECT_REFUND_FIGURES = """
SELECT count(*) FILTER (WHERE refunds.status = 'pending') AS pending,
       count(*) FILTER (WHERE refunds.status = 'succeeded') AS refunded,
       count(*) FILTER (WHERE refunds.status = 'failed') AS failed,
       (SELECT count(*)
        FROM orders JOIN events ON events.id = orders.event_id
        WHERE orders.event_id = $1 AND events.status = 'cancelled'
          AND orders.status IN ('paid', 'fulfilled')
          AND EXISTS (SELECT FROM payments
                      WHERE payments.order_id = orders.id AND payments.status = 'succeeded')
          AND NOT EXISTS (SELECT FROM refunds AS opened WHERE opened.order_id = orders.id))
           AS unopened
FROM refunds JOIN orders ON orders.id = refunds.order_id
WHERE orders.event_id = $1
"""


async def load_refund_figures(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> RefundFigures:
    row = await connection.fetchrow(SELECT_REFUND_FIGURES, event_id)
    return RefundFigures(
        pending=row["pending"] + row["unopened"], refunded=row["refunded"], failed=row["failed"]
    )
