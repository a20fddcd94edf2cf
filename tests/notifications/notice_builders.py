"""Notices as the payment flow writes them, and the outbox messages that carry them."""

import uuid

import msgspec

from notifications.notices import Notice, NoticeKind, NoticeTicket, encode_notice, notice_topic
from persistence.outbox import OutboxMessage

FAN_EMAIL = "fan@example.com"


def order_confirmed(
    tenant_id: uuid.UUID, event_id: uuid.UUID, *, email: str | None = FAN_EMAIL
) -> Notice:
    return Notice(
        kind=NoticeKind.ORDER_CONFIRMED,
        tenant_id=tenant_id,
        event_id=event_id,
        event_name="Night One",
        order_id=uuid.uuid4(),
        user_id="fan-1",
        email=email,
        total_cents=18_900,
        currency="USD",
        tickets=(
            NoticeTicket(ticket_id=uuid.uuid4(), ticket_type_name="Reserved", seat="101-A-7"),
            NoticeTicket(ticket_id=uuid.uuid4(), ticket_type_name="General Admission"),
        ),
    )


def of_kind(notice: Notice, kind: NoticeKind, **changes: object) -> Notice:
    return msgspec.structs.replace(notice, kind=kind, **changes)


def outbox_message(notice: Notice, *, attempts: int = 0) -> OutboxMessage:
    aggregate = notice.order_id if notice.order_id is not None else notice.tickets[0].ticket_id
    return OutboxMessage(
        message_id=uuid.uuid4(),
        position=1,
        tenant_id=notice.tenant_id,
        topic=notice_topic(notice.kind),
        aggregate_id=str(aggregate),
        payload=encode_notice(notice),
        attempts=attempts,
    )


def redelivered(message: OutboxMessage, *, attempts: int) -> OutboxMessage:
    """The same message delivered again after `attempts` failed deliveries."""
    return msgspec.structs.replace(message, attempts=attempts)
