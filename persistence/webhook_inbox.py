"""The Stripe webhook inbox: each Stripe event is stored once, by its id, and applied once.

A delivery that finds its event already processed changes nothing; one that finds it received but
not processed (an earlier delivery failed half-way) applies it again, which is safe because every
step of settling an order is idempotent.
"""

import uuid

import asyncpg

RECORD_EVENT = """
INSERT INTO webhook_inbox (tenant_id, stripe_event_id, event_type, payload, order_id)
VALUES (current_setting('app.current_tenant_id')::uuid, $1, $2, $3::jsonb, $4)
ON CONFLICT (stripe_event_id) DO NOTHING
"""

SELECT_STATUS = "SELECT status FROM webhook_inbox WHERE stripe_event_id = $1"


async def record_webhook_event(
    connection: asyncpg.Connection,
    *,
    stripe_event_id: str,
    event_type: str,
    payload: str,
    order_id: uuid.UUID,
) -> bool:
    """Store the event if it is new; True when it still has to be applied."""
    await connection.execute(RECORD_EVENT, stripe_event_id, event_type, payload, order_id)
    status: str | None = await connection.fetchval(SELECT_STATUS, stripe_event_id)
    return status != "processed"


MARK_PROCESSED = """
UPDATE webhook_inbox SET status = 'processed', processed_at = now(), last_error = NULL
WHERE stripe_event_id = $1 AND status <> 'processed'
"""


async def mark_webhook_processed(connection: asyncpg.Connection, stripe_event_id: str) -> None:
    await connection.execute(MARK_PROCESSED, stripe_event_id)
