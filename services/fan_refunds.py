"""A fan's own refund of a paid order, allowed only while its postponed event's refund window is
open: the fan bought for the old date, so until `refund_until` the whole order may go back.

The refund is opened in the order's tenant transaction through `request_refund` (kind
`fan_request`), so asking again answers the refund already opened; the payment workers run it.
"""

import uuid

import asyncpg

from persistence.orders import OrderRecord
from persistence.refunds import RefundKind, RefundRecord
from persistence.tenancy import tenant_transaction
from services.refund_requests import request_refund
from services.refunds import check_refundable
from services.refusals import RefundNotAllowed

FAN_REFUND_REASON = "the event was postponed"


def check_window(*, refund_until_ms: int | None, cancelled: bool, now_ms: int) -> None:
    """RefundNotAllowed unless the event was postponed and its window is still open."""
    if cancelled:
        raise RefundNotAllowed("the event was cancelled: every paid order is refunded already")
    if refund_until_ms is None:
        raise RefundNotAllowed("the event was not postponed: its orders are refunded by its venue")
    if now_ms >= refund_until_ms:
        raise RefundNotAllowed("the window to ask for a refund of this postponed event closed")


async def open_fan_refund(
    pool: asyncpg.Pool,
    *,
    order: OrderRecord,
    tenant_id: uuid.UUID,
    reason: str | None,
) -> RefundRecord:
    """The fan's refund of all the order has left, opened now or earlier."""
    check_refundable(order)
    async with tenant_transaction(pool, tenant_id) as connection:
        return await request_refund(
            connection,
            order=order,
            kind=RefundKind.FAN_REQUEST,
            reason=reason or FAN_REFUND_REASON,
        )
