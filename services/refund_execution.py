"""Executing an opened refund, every step repeatable: Stripe returns the money under the key
stored when the refund was opened (never twice, however often this runs); one transaction then
completes the refund with its ledger reversal and its REFUNDED notice (once: the completion is
guarded); and only then the refunded seats and units go back on sale through the event's
InventoryActor (marked done afterwards; the engine's idempotency key covers a crash in between).
A refund already made outside the service (its Stripe id known) is only recorded.
"""

import uuid
from collections.abc import Awaitable, Callable

import msgspec

from engine.commands import ItemRequest, RefundOrder, ReturnTickets
from engine.ledger import reversal, sale_entries
from engine.order_lifecycle import OrderStatus
from engine.pricing import price_order
from engine.refund_amounts import refund_entries
from engine.refund_lifecycle import RefundStatus
from engine.rejections import Reason, Rejected
from payments.refund_announcements import refund_announcements
from payments.stripe_api import PaymentRefused
from persistence.fulfilment import has_sale_entries, load_event_names, record_ledger_entries
from persistence.order_ticket_values import load_ticket_values
from persistence.orders import OrderRecord, load_order, write_outbox
from persistence.refund_completion import complete_refund
from persistence.refunds import (
    RefundRecord,
    load_refund,
    mark_refund_failed,
    mark_stock_returned,
    record_refund_error,
    sale_is_live,
)
from persistence.tenancy import tenant_transaction
from services.settlement_parts import SettlementParts, SettlementUnavailable


async def no_pacing() -> None:
    """Stripe calls made outside a payment worker (tests, the reconciler's own) are not paced."""


class RefundRun(msgspec.Struct, frozen=True, kw_only=True):
    """Where one execution left the refund: its status, and whether its stock is back."""

    status: RefundStatus
    stock_returned: bool


async def execute_refund(
    parts: SettlementParts,
    *,
    tenant_id: uuid.UUID,
    refund_id: uuid.UUID,
    last_attempt: bool = False,
    pace: Callable[[], Awaitable[None]] = no_pacing,
) -> RefundRun | None:
    """Take the refund as far as it goes; None if there is no such refund.

    Raises PaymentProviderUnavailable while Stripe cannot answer (the caller retries); a refund
    Stripe refuses is marked failed on the `last_attempt` the caller gives it.
    """
    async with tenant_transaction(parts.pool, tenant_id) as connection:
        refund = await load_refund(connection, refund_id)
        order = None if refund is None else await load_order(connection, refund.order_id)
    if refund is None or order is None:
        return None
    if refund.status is RefundStatus.PENDING:
        provider_refund_id = refund.provider_refund_id
        if provider_refund_id is None:
            try:
                provider_refund_id = await _refund_at_stripe(parts, order, refund, pace)
            except PaymentRefused as refused:
                async with tenant_transaction(parts.pool, tenant_id) as connection:
                    if last_attempt:
                        await mark_refund_failed(
                            connection, refund_id=refund_id, error=str(refused)
                        )
                    else:
                        await record_refund_error(
                            connection, refund_id=refund_id, error=str(refused)
                        )
                if last_attempt:
                    return RefundRun(status=RefundStatus.FAILED, stock_returned=False)
                raise
        await _complete(parts, order, refund, provider_refund_id)
    elif refund.status is RefundStatus.FAILED:
        return RefundRun(status=RefundStatus.FAILED, stock_returned=False)
    if not refund.stock_returned:
        await return_stock(parts, order, refund)
    return RefundRun(status=RefundStatus.SUCCEEDED, stock_returned=True)


async def _refund_at_stripe(
    parts: SettlementParts,
    order: OrderRecord,
    refund: RefundRecord,
    pace: Callable[[], Awaitable[None]],
) -> str:
    _, payment = order.paid_through()
    assert payment.payment_intent_id is not None, "only a paid order is refunded"
    await pace()
    return await parts.stripe.refund(
        payment.payment_intent_id,
        amount_cents=refund.amount_cents,
        idempotency_key=refund.idempotency_key,
        metadata={
            "order_id": str(order.order_id),
            "refund_id": str(refund.refund_id),
            "kind": refund.kind,
        },
    )


async def _complete(
    parts: SettlementParts, order: OrderRecord, refund: RefundRecord, provider_refund_id: str
) -> None:
    """The refund, its tickets, the order, the ledger and the notice, in one transaction."""
    _, payment = order.paid_through()
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        had_sale = await has_sale_entries(connection, order.order_id)
        completed = await complete_refund(
            connection, refund=refund, provider_refund_id=provider_refund_id, now_ms=parts.clock()
        )
        if not completed:
            return
        if had_sale:
            entries = (
                reversal(sale_entries(price_order(order.subtotal_cents)))
                if refund.amounts is None
                else refund_entries(refund.amounts)
            )
            await record_ledger_entries(
                connection,
                entries=entries,
                currency=order.currency,
                order_id=order.order_id,
                payment_id=payment.payment_id,
                refund_id=refund.refund_id,
            )
        names = await load_event_names(connection, order.event_id)
        current = await load_order(connection, order.order_id)
        assert current is not None, "orders are never deleted"
        await write_outbox(
            connection,
            refund_announcements(
                order, refund, names, order_refunded=current.status is OrderStatus.REFUNDED
            ),
        )


async def return_stock(parts: SettlementParts, order: OrderRecord, refund: RefundRecord) -> None:
    """Put the refund's seats and units back on sale (all the order's once it is refunded)."""
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        current = await load_order(connection, order.order_id)
        live_sale = await sale_is_live(connection, order.order_id)
        values = await load_ticket_values(connection, order.order_id)
    assert current is not None, "orders are never deleted"
    # a ticket used to enter before the refund completed keeps its seat
    listed = frozenset(refund.ticket_ids)
    tickets = [
        ticket for ticket in values if ticket.ticket_id in listed and ticket.status == "refunded"
    ]
    returned: Rejected | object = None
    if live_sale and (refund.whole_order or current.status is OrderStatus.REFUNDED):
        returned = await parts.inventory(
            order.event_id,
            RefundOrder(order_id=str(order.order_id), idempotency_key=f"refund-{order.order_id}"),
        )
    elif live_sale and tickets:
        units: dict[str, int] = {}
        for ticket in tickets:
            if ticket.seat is None:
                key = str(ticket.ticket_type_id)
                units[key] = units.get(key, 0) + 1
        returned = await parts.inventory(
            order.event_id,
            ReturnTickets(
                order_id=str(order.order_id),
                seats=tuple(ticket.seat for ticket in tickets if ticket.seat is not None),
                items=tuple(
                    ItemRequest(ticket_type_id=ticket_type_id, quantity=quantity)
                    for ticket_type_id, quantity in units.items()
                ),
                idempotency_key=f"refund-{refund.refund_id}",
            ),
        )
    if isinstance(returned, Rejected) and returned.reason is not Reason.NOT_FOUND:
        raise SettlementUnavailable(f"the inventory was not given back: {returned.message}")
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        await mark_stock_returned(connection, [refund.refund_id])
