"""Postponing an event: its dates move, its refund window opens, and each paid order's fan is
told once, all in one tenant transaction, so the fans are told exactly when the dates change.
"""

import datetime
import uuid

import asyncpg

from notifications.notices import Notice, NoticeKind, encode_notice, notice_topic
from persistence.orders import OutboxEntry, write_outbox
from persistence.postponements import load_paid_orders, move_event


def milliseconds(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1_000)


async def postpone_event(
    connection: asyncpg.Connection,
    *,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    refund_until: datetime.datetime,
) -> int | None:
    """Move the event and tell each paid order's fan; how many were told, or None when the
    event is cancelled (then nothing changes)."""
    name = await move_event(
        connection,
        event_id=event_id,
        starts_at=starts_at,
        ends_at=ends_at,
        refund_until=refund_until,
    )
    if name is None:
        return None
    notices = [
        OutboxEntry(
            topic=notice_topic(NoticeKind.EVENT_POSTPONED),
            aggregate_id=str(order.order_id),
            payload=encode_notice(
                Notice(
                    kind=NoticeKind.EVENT_POSTPONED,
                    tenant_id=tenant_id,
                    event_id=event_id,
                    event_name=name,
                    order_id=order.order_id,
                    user_id=order.user_id,
                    email=order.contact_email,
                    total_cents=order.total_cents,
                    currency=order.currency,
                    starts_at_ms=milliseconds(starts_at),
                    refund_until_ms=milliseconds(refund_until),
                )
            ),
        )
        for order in await load_paid_orders(connection, event_id=event_id)
    ]
    await write_outbox(connection, notices)
    return len(notices)
