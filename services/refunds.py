"""The venue's refund of an order: only a paid order of the venue's own tenant goes back, and
asking again for what is already refunded answers that refund, so a retry refunds nothing twice.

The refund is opened here, in the caller's tenant transaction (services/refund_requests.py); the
payment workers move the money, the tickets and the inventory.
"""

import uuid
from collections.abc import Sequence

import asyncpg

from engine.order_lifecycle import OrderStatus
from persistence.orders import OrderRecord
from persistence.refunds import RefundKind, RefundRecord
from persistence.tenancy import tenant_transaction
from services.refund_requests import request_refund
from services.refusals import NothingFound, OrderNotRefundable

REFUNDABLE_STATUSES = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.FULFILLED,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.REFUNDED,
    }
)


def check_refundable(order: OrderRecord) -> None:
    """OrderNotRefundable for a complimentary order or one that was never paid."""
    if order.complimentary:
        raise OrderNotRefundable(order_status=order.status, complimentary=True)
    if order.status not in REFUNDABLE_STATUSES:
        raise OrderNotRefundable(order_status=order.status, complimentary=False)


async def open_venue_refund(
    pool: asyncpg.Pool,
    *,
    order: OrderRecord,
    order_tenant_id: uuid.UUID,
    venue_tenant_id: uuid.UUID,
    reason: str,
    ticket_ids: Sequence[uuid.UUID] | None,
    refund_fees: bool,
) -> RefundRecord:
    """The venue's refund of those tickets (None: all the order has left), opened now or
    earlier. NothingFound when the order's event is another tenant's."""
    if order_tenant_id != venue_tenant_id:
        raise NothingFound("order")
    check_refundable(order)
    async with tenant_transaction(pool, order.tenant_id) as connection:
        return await request_refund(
            connection,
            order=order,
            kind=RefundKind.VENUE,
            reason=reason,
            ticket_ids=ticket_ids,
            refund_fees=refund_fees,
        )
