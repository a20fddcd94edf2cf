"""An order's money from checkout to tickets or refund: the one service that moves orders along.

Routes and the cluster's reconciler call `Settlement`; it returns orders or raises the domain
errors of `services.settlement_parts`, which callers translate. The steps live by job in
`checkout`, `payment_outcomes` and `refund_execution`; this module takes an order left half-way (a
lost webhook, a crash) one step further, asking Stripe where it must. An unpaid order whose
PaymentIntent Stripe no longer has (test data deleted, a local store lost) ends, once.
"""

import uuid
from collections.abc import Callable

import asyncpg

from engine import limits
from engine.order_lifecycle import OrderAction, OrderStatus
from engine.refund_lifecycle import RefundStatus
from payments.stripe_api import PaymentIntentMissing, PaymentIntentState, StripePayments
from persistence.event_details import EventDetails
from persistence.hold_repository import StoredHold
from persistence.orders import OrderRecord, poll_again_at
from persistence.refunds import load_order_refunds
from persistence.tenancy import tenant_transaction
from services.checkout import check_out, pay_with_test_card
from services.payment_outcomes import (
    apply_payment_intent,
    end_unpaid,
    expire,
    fulfil,
    payment_intent_vanished,
)
from services.refund_execution import execute_refund
from services.settlement_parts import WINDOW_ENDED_REASON, InventoryCommands, SettlementParts


class Settlement:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        stripe: StripePayments,
        inventory: InventoryCommands,
        clock: Callable[[], int],
    ) -> None:
        self._pool = pool
        self._parts = SettlementParts(pool=pool, stripe=stripe, inventory=inventory, clock=clock)

    async def order(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> OrderRecord | None:
        return await self._parts.order(tenant_id, order_id)

    async def checkout(
        self, *, event: EventDetails, hold: StoredHold, contact_email: str | None
    ) -> OrderRecord:
        """The hold's order with its PaymentIntent, created now or found from an earlier call."""
        return await check_out(self._parts, event=event, hold=hold, contact_email=contact_email)

    async def pay_with_test_card(self, order: OrderRecord, card_number: str) -> OrderRecord:
        """Confirm with a Stripe test card and settle; raises PaymentDeclined on a decline."""
        return await pay_with_test_card(self._parts, order, card_number)

    async def apply_payment_intent(
        self, order: OrderRecord, intent: PaymentIntentState
    ) -> OrderRecord:
        """Settle the order by what Stripe says of its PaymentIntent; a pending one waits."""
        return await apply_payment_intent(self._parts, order, intent)

    async def reconcile(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> None:
        """Take one order left half-way one step further, by asking Stripe where needed."""
        order = await self._parts.order(tenant_id, order_id)
        if order is None:
            return
        async with tenant_transaction(self._pool, tenant_id) as connection:
            unfinished = [
                refund
                for refund in await load_order_refunds(connection, order_id)
                if refund.status is RefundStatus.PENDING
                or (refund.status is RefundStatus.SUCCEEDED and not refund.stock_returned)
            ]
        if unfinished:
            for refund in unfinished:
                await execute_refund(self._parts, tenant_id=tenant_id, refund_id=refund.refund_id)
        elif order.status is OrderStatus.PAID:
            await fulfil(self._parts, order)
        elif order.status is OrderStatus.PENDING_PAYMENT:
            await self._poll(order)

    async def _poll(self, order: OrderRecord) -> None:
        now_ms = self._parts.clock()
        payment_intent_id = order.paid_through()[1].payment_intent_id
        if payment_intent_id is None:
            if now_ms >= order.expires_at_ms:
                await end_unpaid(self._parts, order, OrderAction.EXPIRE, WINDOW_ENDED_REASON)
            else:
                await self._poll_later(order, now_ms)
            return
        try:
            intent = await self._parts.stripe.retrieve_payment_intent(payment_intent_id)
        except PaymentIntentMissing:
            if now_ms >= order.expires_at_ms:
                await payment_intent_vanished(self._parts, order, OrderAction.EXPIRE)
            else:
                await payment_intent_vanished(self._parts, order, OrderAction.FAIL_PAYMENT)
            return
        if intent.succeeded or intent.declined or intent.cancelled:
            await apply_payment_intent(self._parts, order, intent)
        elif now_ms >= order.expires_at_ms:
            await expire(self._parts, order)
        else:
            await self._poll_later(order, now_ms)

    async def _poll_later(self, order: OrderRecord, now_ms: int) -> None:
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            await poll_again_at(
                connection,
                order_id=order.order_id,
                at_ms=now_ms + limits.PAYMENT_POLL_INTERVAL_MS,
            )
