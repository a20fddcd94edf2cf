"""Money back for a whole order from inside the payment flow (a late payment, a failed
fulfilment): the refund is opened through services/refund_requests.py, like every refund, and
then executed at once by the caller, which is already off any request's path; its outbox message
finds it done if this process dies first.
"""

from persistence.orders import OrderRecord
from persistence.refunds import RefundKind
from persistence.tenancy import tenant_transaction
from services.refund_execution import execute_refund
from services.refund_requests import request_refund
from services.settlement_parts import SettlementParts


async def refund_order(
    parts: SettlementParts, order: OrderRecord, kind: RefundKind, reason: str
) -> None:
    """Refund all the order has left through Stripe, once, and then give its inventory back."""
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        refund = await request_refund(connection, order=order, kind=kind, reason=reason)
    await execute_refund(parts, tenant_id=order.tenant_id, refund_id=refund.refund_id)
