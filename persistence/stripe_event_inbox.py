"""The inbox of Stripe's verified events (migration 0037): kept by the webhook route before it
answers, applied by the payment workers.

An event is taken for a while (a lease) by the worker that applies it, so two workers never apply
it side by side, and one that dies lets it go when the lease ends. A failed attempt puts it back
after a backoff. These tables belong to no tenant: the statements run outside a tenant
transaction.
"""

import asyncpg
import msgspec

KEEP_EVENT = """
INSERT INTO stripe_events (event_id, event_type, payload)
VALUES ($1, $2, $3::jsonb)
ON CONFLICT (event_id) DO NOTHING
"""
SELECT_APPLIED = "SELECT applied_at IS NOT NULL FROM stripe_events WHERE event_id = $1"


class StoredStripeEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    event_type: str
    payload: str
    attempts: int


async def keep_stripe_event(
    connection: asyncpg.Connection, *, event_id: str, event_type: str, payload: str
) -> bool:
    """Keep the event if it is new; True while it is still to be applied."""
    async with connection.transaction():
        await connection.execute(KEEP_EVENT, event_id, event_type, payload)
        applied: bool = await connection.fetchval(SELECT_APPLIED, event_id)
    return not applied


TAKE_EVENT = """
UPDATE stripe_events
SET available_at = now() + $2::bigint * interval '1 millisecond', attempts = attempts + 1
WHERE event_id = $1 AND applied_at IS NULL AND available_at <= now()
RETURNING event_id, event_type, payload::text AS payload, attempts
"""


async def take_stripe_event(
    connection: asyncpg.Connection, event_id: str, *, lease_ms: int
) -> StoredStripeEvent | None:
    """The event, taken for `lease_ms`; None when it is applied, or taken or waiting out a
    backoff."""
    row = await connection.fetchrow(TAKE_EVENT, event_id, lease_ms)
    return None if row is None else StoredStripeEvent(**dict(row))


MARK_APPLIED = """
UPDATE stripe_events SET applied_at = now(), last_error = NULL
WHERE event_id = $1 AND applied_at IS NULL
"""


async def mark_stripe_event_applied(connection: asyncpg.Connection, event_id: str) -> None:
    await connection.execute(MARK_APPLIED, event_id)


RECORD_FAILURE = """
UPDATE stripe_events
SET available_at = now() + $3::bigint * interval '1 millisecond', last_error = left($2, 2000)
WHERE event_id = $1 AND applied_at IS NULL
"""


async def record_stripe_event_failure(
    connection: asyncpg.Connection, event_id: str, *, error: str, retry_in_ms: int
) -> None:
    await connection.execute(RECORD_FAILURE, event_id, error, retry_in_ms)


SELECT_WAITING = """
SELECT event_id FROM stripe_events
WHERE applied_at IS NULL AND available_at <= now()
  AND received_at <= now() - $2::bigint * interval '1 millisecond'
ORDER BY available_at
LIMIT $1
"""


async def waiting_stripe_events(
    connection: asyncpg.Connection, *, limit: int, kept_for_ms: int = 0
) -> list[str]:
    """The ids of events still to be applied that nobody holds and that were kept at least
    `kept_for_ms` ago, the longest waiting first."""
    rows = await connection.fetch(SELECT_WAITING, limit, kept_for_ms)
    return [row["event_id"] for row in rows]
