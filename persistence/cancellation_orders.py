"""The paid orders of a cancelled event whose cancellation refund is not opened yet, a page at a
time, in order of id: what the refund job of a cancellation still has to open.

Runs in the event's tenant transaction. An order leaves the page once a refund of kind
`cancellation` is opened for it, so a job that died part-way reads on from where it stopped.
"""

import uuid

import asyncpg

SELECT_ORDERS_TO_REFUND = """
SELECT orders.id
FROM orders JOIN events ON events.id = orders.event_id
WHERE orders.event_id = $1 AND events.status = 'cancelled'
  AND orders.status IN ('paid', 'fulfilled', 'partially_refunded')
  AND EXISTS (SELECT FROM payments
              WHERE payments.order_id = orders.id AND payments.status = 'succeeded')
  AND NOT EXISTS (SELECT FROM refunds
                  WHERE refunds.order_id = orders.id AND refunds.kind = 'cancellation')
ORDER BY orders.id
LIMIT $2
"""


async def orders_to_refund(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    return [row["id"] for row in await connection.fetch(SELECT_ORDERS_TO_REFUND, event_id, limit)]
