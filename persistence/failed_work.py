"""Failed work in Postgres: outbox messages of an event that ran out of their quick attempts and
are retried on the long backoff (a mint, an NFT's move, a notice), read and retried by its venue.

Everything runs in the venue's tenant transaction, so row-level security fences it; a message is
found for its event through the `event_id` every payload of the service carries.
"""

import uuid

import asyncpg
import msgspec


class FailedWork(msgspec.Struct, frozen=True, kw_only=True):
    """One message as its venue sees it; `failed_at_ms` is None once it has landed."""

    message_id: uuid.UUID
    topic: str
    payload: str
    attempts: int
    last_error: str | None
    failed_at_ms: int | None
    next_attempt_at_ms: int
    dispatched: bool


COLUMNS = """
id, topic, payload::text AS payload, attempts, last_error, status = 'dispatched' AS dispatched,
(extract(epoch FROM failed_at) * 1000)::bigint AS failed_at_ms,
(extract(epoch FROM available_at) * 1000)::bigint AS next_attempt_at_ms
"""

SELECT_FAILED_WORK = f"""
SELECT {COLUMNS}
FROM outbox
WHERE status = 'pending' AND failed_at IS NOT NULL AND payload ->> 'event_id' = $1
ORDER BY failed_at, position
LIMIT $2
"""

SELECT_WORK = f"SELECT {COLUMNS} FROM outbox WHERE id = $1"

RETRY_NOW = "UPDATE outbox SET available_at = now() WHERE id = $1 AND status = 'pending'"


def _work(row: asyncpg.Record) -> FailedWork:
    return FailedWork(
        message_id=row["id"],
        topic=row["topic"],
        payload=row["payload"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        failed_at_ms=row["failed_at_ms"],
        next_attempt_at_ms=row["next_attempt_at_ms"],
        dispatched=row["dispatched"],
    )


async def list_failed_work(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, limit: int
) -> list[FailedWork]:
    """The event's failed work, the longest failing first."""
    rows = await connection.fetch(SELECT_FAILED_WORK, str(event_id), limit)
    return [_work(row) for row in rows]


async def retry_failed_work(
    connection: asyncpg.Connection, *, message_id: uuid.UUID
) -> FailedWork | None:
    """Make the message due now unless it has landed; the message as it stands, or None when the
    transaction's tenant has no such message. Retrying work that has landed changes nothing."""
    await connection.execute(RETRY_NOW, message_id)
    row = await connection.fetchrow(SELECT_WORK, message_id)
    return None if row is None else _work(row)
