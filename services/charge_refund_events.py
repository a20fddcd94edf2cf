"""Refunds made outside the service (in Stripe's dashboard): what `charge.refunded` does.

Stripe sends the Charge, not the refund that changed it, so every succeeded refund of the charge
is looked at: one we made carries our metadata (its order and kind) or is stored under its Stripe
id, and is left alone; any other is opened through the refund kernel with its Stripe id (no call
to Stripe) and executed at once. One covering all the order has left refunds the order, its
tickets and its stock, and emails the fan; a smaller one gives money alone back, and the order is
`partially_refunded`. A refund's Stripe id opens at most one refund, so a repeated event does
nothing more.
"""

import logging
from typing import Any

from payments.stripe_api import ProviderRefund
from persistence.orders import OrderRecord
from persistence.refunds import RefundKind, load_refund_of_provider
from persistence.tenancy import tenant_transaction
from persistence.webhook_inbox import mark_webhook_processed
from services.refund_execution import execute_refund
from services.refund_requests import request_refund
from services.refusals import OrderNotRefundable, RefundMisstated
from services.settlement_parts import SettlementParts, reload_in
from services.stripe_event_orders import (
    object_id,
    order_paid_through,
    settled_order,
    take_event_once,
)

log = logging.getLogger(__name__)
OUTSIDE_REFUND_REASON = "refunded at the payment provider"
# What our own refunds carry at Stripe (services/refund_execution.py).
OUR_REFUND_METADATA = frozenset({"order_id", "kind"})


def made_by_us(refund: ProviderRefund) -> bool:
    return refund.metadata.keys() >= OUR_REFUND_METADATA


async def apply_charge_refunded(parts: SettlementParts, event: dict[str, Any]) -> bool:
    """Apply the charge's refunds made outside the service; False when there were none new or
    the charge is none of ours."""
    charge = event["data"]["object"]
    charge_id = object_id(charge)
    located = await order_paid_through(parts, object_id(charge.get("payment_intent")))
    if located is None or charge_id is None:
        return False
    order = await settled_order(parts, *located)
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        if not await take_event_once(connection, order, event):
            return False
    outside = [
        refund
        for refund in await parts.stripe.charge_refunds(charge_id)
        if refund.status == "succeeded" and not made_by_us(refund)
    ]
    applied = False
    for refund in outside:
        applied = await apply_outside_refund(parts, order, refund) or applied
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        await mark_webhook_processed(connection, str(event["id"]))
    return applied


async def apply_outside_refund(
    parts: SettlementParts, order: OrderRecord, refund: ProviderRefund
) -> bool:
    """Open and execute the refund a Stripe refund made outside the service stands for; False
    when it was recorded already."""
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        if await load_refund_of_provider(connection, refund.refund_id) is not None:
            return False
        current = await reload_in(connection, order)
        try:
            opened = await request_refund(
                connection,
                order=current,
                kind=RefundKind.STRIPE_DASHBOARD,
                reason=OUTSIDE_REFUND_REASON,
                provider_refund_id=refund.refund_id,
                amount_cents=refund.amount_cents,
            )
        except (RefundMisstated, OrderNotRefundable) as misstated:
            log.error(
                "a refund made at Stripe does not fit the order: it is not recorded",
                extra={
                    "order_id": str(order.order_id),
                    "provider_refund_id": refund.refund_id,
                    "reason": str(misstated),
                },
            )
            return False
    await execute_refund(parts, tenant_id=order.tenant_id, refund_id=opened.refund_id)
    return True
