"""The venue's refund of an order: only a paid order of the venue's own tenant goes back, and a
refunded one is answered as it stands, so a retry refunds nothing twice.

The money, the tickets and the inventory move in services/settlement.py; this use case decides
whether they may.
"""

import uuid

from engine.order_lifecycle import OrderStatus
from persistence.orders import OrderRecord
from services.refusals import NothingFound, OrderNotRefundable
from services.settlement import Settlement

REFUNDABLE_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.REFUNDED})


def check_refundable(order: OrderRecord) -> None:
    """OrderNotRefundable for a complimentary order or one that was never paid."""
    if order.complimentary:
        raise OrderNotRefundable(order_status=order.status, complimentary=True)
    if order.status not in REFUNDABLE_STATUSES:
        raise OrderNotRefundable(order_status=order.status, complimentary=False)


async def refund_order(
    settlement: Settlement,
    *,
    order: OrderRecord,
    order_tenant_id: uuid.UUID,
    venue_tenant_id: uuid.UUID,
    reason: str,
) -> OrderRecord:
    """The order once refunded. NothingFound when the order's event is another tenant's."""
    if order_tenant_id != venue_tenant_id:
        raise NothingFound("order")
    check_refundable(order)
    if order.status == "refunded":
        return order
    return await settlement.refund(order, reason)
