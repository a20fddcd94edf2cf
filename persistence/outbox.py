"""The outbox: messages written in the transaction of the change they announce, read back by the
dispatcher, marked dispatched, or retried with backoff; a message out of its quick attempts
becomes failed work (`failed_at`), still pending, retried on a long backoff until it lands.

Delivery is at least once; consumers deduplicate. Only the oldest pending message of each
aggregate is ever due, so one aggregate's messages arrive in the order they were written.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec


class OutboxMessage(msgspec.Struct, frozen=True, kw_only=True):
    message_id: uuid.UUID
    position: int
    tenant_id: uuid.UUID
    topic: str
    aggregate_id: str
    payload: str
    attempts: int


class DeliveryFailure(msgspec.Struct, frozen=True, kw_only=True):
    """`is_failed_work` once the message has run out of its quick attempts."""

    message_id: uuid.UUID
    error: str
    retry_in_ms: int
    is_failed_work: bool


SELECT_DUE = """
SELECT message.id, message.position, message.tenant_id, message.topic, message.aggregate_id,
       message.payload::text AS payload, message.attempts
FROM outbox AS message
WHERE message.status = 'pending'
  AND message.available_at <= now()
  AND NOT EXISTS (
      SELECT 1 FROM outbox AS earlier
      WHERE earlier.status = 'pending'
        AND earlier.tenant_id = message.tenant_id
        AND earlier.aggregate_id = message.aggregate_id
        AND earlier.position < message.position)
ORDER BY message.position
LIMIT $1
"""


async def due_messages(connection: asyncpg.Connection, *, limit: int) -> list[OutboxMessage]:
    """The oldest due message of each aggregate of the current tenant, in position order."""
    rows = await connection.fetch(SELECT_DUE, limit)
    return [
        OutboxMessage(
            message_id=row["id"],
            position=row["position"],
            tenant_id=row["tenant_id"],
            topic=row["topic"],
            aggregate_id=row["aggregate_id"],
            payload=row["payload"],
            attempts=row["attempts"],
        )
        for row in rows
    ]


MARK_DISPATCHED = """
UPDATE outbox
SET status = 'dispatched', dispatched_at = now(), attempts = attempts + 1, failed_at = NULL
WHERE id = ANY($1::uuid[]) AND status = 'pending'
"""


async def mark_dispatched(
    connection: asyncpg.Connection, *, message_ids: Sequence[uuid.UUID]
) -> None:
    await connection.execute(MARK_DISPATCHED, list(message_ids))


RECORD_FAILURES = """
UPDATE outbox
SET attempts = attempts + 1,
    last_error = failure.error,
    available_at = now() + failure.retry_in_ms * interval '1 millisecond',
    failed_at = CASE WHEN failure.is_failed_work THEN coalesce(outbox.failed_at, now()) END
FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::boolean[])
     AS failure(id, error, retry_in_ms, is_failed_work)
WHERE outbox.id = failure.id AND outbox.status = 'pending'
"""


async def record_failures(
    connection: asyncpg.Connection, *, failures: Sequence[DeliveryFailure]
) -> None:
    await connection.execute(
        RECORD_FAILURES,
        [failure.message_id for failure in failures],
        [failure.error for failure in failures],
        [failure.retry_in_ms for failure in failures],
        [failure.is_failed_work for failure in failures],
    )


class OutboxBacklog(msgspec.Struct, frozen=True, kw_only=True):
    """How far behind delivery is: the age of the oldest message due and not yet delivered
    (None when none is due), and how many messages are failed work."""

    oldest_due_age_ms: int | None
    failed_work: int


SELECT_BACKLOG = """
SELECT (extract(epoch FROM now() - min(available_at)
                 FILTER (WHERE failed_at IS NULL AND available_at <= now())) * 1000)::bigint
           AS oldest_due_age_ms,
       count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed_work
FROM outbox
WHERE status = 'pending'
"""


async def outbox_backlog(connection: asyncpg.Connection) -> OutboxBacklog:
    """The current tenant's backlog."""
    row = await connection.fetchrow(SELECT_BACKLOG)
    assert row is not None
    return OutboxBacklog(oldest_due_age_ms=row["oldest_due_age_ms"], failed_work=row["failed_work"])
