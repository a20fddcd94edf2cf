"""What opening a refund asks of the payment workers: the `payment.refund` outbox message, one per
refund, written in the transaction that opens it. A field added here must be optional, since
messages already written lack it."""

import uuid

import msgspec

from persistence.orders import OutboxEntry

REFUND_TOPIC = "payment.refund"


class RefundMessage(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: uuid.UUID
    order_id: uuid.UUID
    refund_id: uuid.UUID


REFUND_MESSAGE_DECODER = msgspec.json.Decoder(RefundMessage)


def refund_outbox_entry(message: RefundMessage) -> OutboxEntry:
    """Keyed by the order, so one order's refunds meet the same worker, one after another."""
    return OutboxEntry(
        topic=REFUND_TOPIC,
        aggregate_id=str(message.order_id),
        payload=msgspec.json.encode(message).decode(),
    )
