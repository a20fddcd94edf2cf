"""Money back for a whole order through Stripe, once, and then its inventory back on sale.

The refund is opened (with its Stripe idempotency key) before Stripe is called and completed
after, in one transaction with its ledger reversal and notice; the inventory is returned only
afterwards, so a seat is never on sale while a live ticket still holds it. Each step may repeat.
"""

from engine.commands import RefundOrder
from engine.ledger import reversal, sale_entries
from engine.pricing import price_order
from engine.refund_lifecycle import RefundStatus
from engine.rejections import Reason, Rejected
from notifications.notices import NoticeKind
from payments.announcements import order_notice
from persistence.fulfilment import has_sale_entries, load_event_names, record_ledger_entries
from persistence.orders import OrderRecord, write_outbox
from persistence.refunds import RefundKind, complete_refund, open_refund, sale_is_live
from persistence.tenancy import tenant_transaction
from services.settlement_parts import SettlementParts, SettlementUnavailable


async def refund_order(
    parts: SettlementParts, order: OrderRecord, kind: RefundKind, reason: str
) -> None:
    """Refund the whole order through Stripe, once, and then give its inventory back."""
    _, payment = order.paid_through()
    payment_intent_id = payment.payment_intent_id
    assert payment_intent_id is not None, "only a paid order is refunded"
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        refund = await open_refund(
            connection,
            order_id=order.order_id,
            amount_cents=order.total_cents,
            reason=reason,
            kind=kind,
        )
    if refund.status is RefundStatus.PENDING:
        provider_refund_id = await parts.stripe.refund(
            payment_intent_id,
            amount_cents=refund.amount_cents,
            idempotency_key=refund.idempotency_key,
            metadata={"order_id": str(order.order_id), "kind": refund.kind},
        )
        async with tenant_transaction(parts.pool, order.tenant_id) as connection:
            had_sale = await has_sale_entries(connection, order.order_id)
            completed = await complete_refund(
                connection,
                order_id=order.order_id,
                provider_refund_id=provider_refund_id,
                reason=refund.reason,
                now_ms=parts.clock(),
            )
            if completed:
                if had_sale:
                    await record_ledger_entries(
                        connection,
                        entries=reversal(sale_entries(price_order(order.subtotal_cents))),
                        currency=order.currency,
                        order_id=order.order_id,
                        payment_id=payment.payment_id,
                        refund_id=refund.refund_id,
                    )
                names = await load_event_names(connection, order.event_id)
                await write_outbox(
                    connection,
                    [order_notice(NoticeKind.REFUNDED, order, names, reason=refund.reason)],
                )
    await return_inventory(parts, order)


async def return_inventory(parts: SettlementParts, order: OrderRecord) -> None:
    """Put a refunded order's seats and units back on sale, unless they already are."""
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        live_sale = await sale_is_live(connection, order.order_id)
    if not live_sale:
        return
    returned = await parts.inventory(
        order.event_id,
        RefundOrder(order_id=str(order.order_id), idempotency_key=f"refund-{order.order_id}"),
    )
    if isinstance(returned, Rejected) and returned.reason is not Reason.NOT_FOUND:
        raise SettlementUnavailable(f"the inventory was not given back: {returned.message}")
