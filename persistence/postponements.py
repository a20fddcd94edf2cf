"""A postponement's rows: the event's new dates and its fans' refund window, and the paid orders
whose fans are told (services/postponements.py writes the notices in the same transaction).

Runs in the event's tenant transaction; a cancelled event is never postponed.
"""

import datetime
import uuid

import asyncpg
import msgspec

POSTPONE_EVENT = """
UPDATE events
SET starts_at = $2, ends_at = $3, refund_until = $4, postponed_at = now(), updated_at = now()
WHERE id = $1 AND status <> 'cancelled'
RETURNING name
"""

# A paid order is one whose payment succeeded (a comp was never paid) and that is not refunded.
SELECT_PAID_ORDERS = """
SELECT orders.id, orders.user_id, orders.contact_email, orders.total_cents, orders.currency
FROM orders
WHERE orders.event_id = $1 AND orders.status IN ('paid', 'fulfilled')
  AND EXISTS (SELECT FROM payments
              WHERE payments.order_id = orders.id AND payments.status = 'succeeded')
ORDER BY orders.id
"""


class PaidOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: uuid.UUID
    user_id: str
    contact_email: str | None
    total_cents: int
    currency: str


async def move_event(
    connection: asyncpg.Connection,
    *,
    event_id: uuid.UUID,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    refund_until: datetime.datetime,
) -> str | None:
    """The event's name once its dates moved; None when it is cancelled (nothing changes)."""
    name: str | None = await connection.fetchval(
        POSTPONE_EVENT, event_id, starts_at, ends_at, refund_until
    )
    return name


async def load_paid_orders(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> list[PaidOrder]:
    return [
        PaidOrder(
            order_id=row["id"],
            user_id=row["user_id"],
            contact_email=row["contact_email"],
            total_cents=row["total_cents"],
            currency=row["currency"],
        )
        for row in await connection.fetch(SELECT_PAID_ORDERS, event_id)
    ]
