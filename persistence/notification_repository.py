"""Notifications as they are sent: one row per message and channel, sent once, and the venue's
webhook endpoint of an event.

A row is claimed by locking it in the transaction that sends it, so two deliveries of one notice
never send it at the same time: the second finds the row locked and tries again later. A row that
is `sent` or `failed` is settled and never sent again. Everything runs in the caller's tenant
transaction.
"""

import uuid
from typing import Literal

import asyncpg
import msgspec

NotificationChannel = Literal["email", "webhook"]
NotificationStatus = Literal["pending", "sent", "failed"]


class NewNotification(msgspec.Struct, frozen=True, kw_only=True):
    dedupe_key: str
    channel: NotificationChannel
    kind: str
    user_id: str | None
    recipient: str
    payload: str


class ClaimedNotification(msgspec.Struct, frozen=True, kw_only=True):
    notification_id: uuid.UUID
    status: NotificationStatus
    attempts: int
    created_at_s: int


class EventWebhook(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    secret: str


INSERT_NOTIFICATION = """
INSERT INTO notifications (tenant_id, dedupe_key, channel, kind, user_id, recipient, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
"""

LOCK_NOTIFICATION = """
SELECT id, status, attempts, extract(epoch FROM created_at)::bigint AS created_at_s
FROM notifications
WHERE tenant_id = $1 AND dedupe_key = $2
FOR UPDATE SKIP LOCKED
"""


async def claim_notification(
    connection: asyncpg.Connection, *, tenant_id: uuid.UUID, notification: NewNotification
) -> ClaimedNotification | None:
    """Record the notification unless it exists, and lock it for this transaction.

    None when another transaction holds it: a delivery of the same notice is sending it now.
    """
    await connection.execute(
        INSERT_NOTIFICATION,
        tenant_id,
        notification.dedupe_key,
        notification.channel,
        notification.kind,
        notification.user_id,
        notification.recipient,
        notification.payload,
    )
    row = await connection.fetchrow(LOCK_NOTIFICATION, tenant_id, notification.dedupe_key)
    if row is None:
        return None
    return ClaimedNotification(
        notification_id=row["id"],
        status=row["status"],
        attempts=row["attempts"],
        created_at_s=row["created_at_s"],
    )


RECORD_SENT = """
UPDATE notifications
SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL
WHERE id = $1 AND status = 'pending'
"""


async def record_sent(connection: asyncpg.Connection, *, notification_id: uuid.UUID) -> None:
    await connection.execute(RECORD_SENT, notification_id)


RECORD_FAILED_ATTEMPT = """
UPDATE notifications
SET attempts = attempts + 1,
    last_error = $2,
    status = CASE WHEN $3 THEN 'failed' ELSE 'pending' END
WHERE id = $1 AND status = 'pending'
"""


async def record_failed_attempt(
    connection: asyncpg.Connection, *, notification_id: uuid.UUID, error: str, gave_up: bool
) -> None:
    """Count the attempt and keep its error; `gave_up` settles the row as `failed`."""
    await connection.execute(RECORD_FAILED_ATTEMPT, notification_id, error, gave_up)


SELECT_EVENT_WEBHOOK = """
SELECT webhook_url, webhook_secret FROM events WHERE id = $1 AND webhook_url IS NOT NULL
"""


async def find_event_webhook(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> EventWebhook | None:
    """The venue's webhook endpoint of the event; None when it has none (or is not visible)."""
    row = await connection.fetchrow(SELECT_EVENT_WEBHOOK, event_id)
    if row is None:
        return None
    return EventWebhook(url=row["webhook_url"], secret=row["webhook_secret"])
