"""What a completed refund announces, in the transaction that completes it: the fan's notice
(`event_cancelled` for a cancellation's refund, so the fan of a cancelled event is told once, in
one email that says both; `refunded` for any other), and, once the order is refunded in full, the
request to mark its NFTs void on chain.
"""

import msgspec

from minting.void_requests import VOID_TOPIC, VoidRequest, encode_void_request
from notifications.notices import NoticeKind
from payments.announcements import order_notice
from persistence.fulfilment import EventNames
from persistence.orders import OrderRecord, OutboxEntry
from persistence.refunds import RefundKind, RefundRecord

NOTICE_KINDS: dict[RefundKind, NoticeKind] = {
    kind: NoticeKind.EVENT_CANCELLED if kind is RefundKind.CANCELLATION else NoticeKind.REFUNDED
    for kind in RefundKind
}


def refund_announcements(
    order: OrderRecord, refund: RefundRecord, names: EventNames, *, order_refunded: bool
) -> list[OutboxEntry]:
    """`order` as it was when the refund was opened; `order_refunded`: nothing of it is left."""
    # The notice tells what this refund gives back.
    refunded_part = msgspec.structs.replace(order, total_cents=refund.amount_cents)
    entries = [
        order_notice(
            NOTICE_KINDS[RefundKind(refund.kind)], refunded_part, names, reason=refund.reason
        )
    ]
    if order_refunded:
        entries.append(
            OutboxEntry(
                topic=VOID_TOPIC,
                aggregate_id=str(order.order_id),
                payload=encode_void_request(
                    VoidRequest(tenant_id=order.tenant_id, order_id=order.order_id)
                ),
            )
        )
    return entries
