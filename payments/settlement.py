"""An order's money from checkout to tickets or refund: the one place that moves orders along.

Checkout extends the hold through the payment window, creates the order and exactly one
PaymentIntent. A succeeded payment, from whichever source learns of it first (the development pay
endpoint, a webhook, the reconciler), marks the order paid, turns the hold into a sale in the
event's InventoryActor and issues the tickets with their mints, ledger entries and confirmation
notice. A declined or expired payment cancels the PaymentIntent, ends the order and releases the
hold. A payment that finds its hold gone is refunded, never kept without a ticket. An unpaid order
whose PaymentIntent Stripe no longer has (test data deleted, a local store lost) can never be paid:
it ends, once, with an error logged for the operator.

Each step is idempotent (guarded status moves in Postgres, keyed engine commands, keyed Stripe
calls), so any step may be repeated after a crash; the reconciler repeats them for orders left
half-way.
"""

import logging
import uuid
from collections.abc import Callable
from typing import Protocol

import asyncpg

from engine import limits
from engine.commands import Command, ConvertHold, ExtendHold, RefundOrder, ReleaseHold
from engine.ledger import reversal, sale_entries
from engine.outcomes import HoldView, Outcome
from engine.pricing import price_order
from engine.rejections import Reason, Rejected
from notifications.notices import NoticeKind
from payments.announcements import mint_requests, order_notice
from payments.stripe_api import (
    PaymentDeclined,
    PaymentIntentMissing,
    PaymentIntentState,
    StripePayments,
)
from persistence.event_details import EventDetails
from persistence.fulfilment import (
    has_sale_entries,
    issue_tickets,
    load_event_names,
    mark_fulfilled,
    record_ledger_entries,
)
from persistence.hold_repository import StoredHold, load_hold
from persistence.located_ids import event_number_of, mint_located_id
from persistence.orders import (
    NewOrder,
    OrderRecord,
    end_unpaid_order,
    insert_order,
    load_order,
    load_order_of_hold,
    mark_paid,
    poll_again_at,
    record_payment_intent,
    write_outbox,
)
from persistence.refunds import (
    RefundKind,
    complete_refund,
    load_refund,
    open_refund,
    sale_is_live,
)
from persistence.tenancy import tenant_transaction

MILLISECONDS_PER_SECOND = 1_000
# The engine's answers that mean "this hold can no longer be sold": the payment is returned.
HOLD_GONE = frozenset({Reason.HOLD_EXPIRED, Reason.NOT_FOUND})
LATE_PAYMENT_REASON = "the payment arrived after the hold had expired"
WINDOW_ENDED_REASON = "the payment window ended before a payment arrived"
VANISHED_REASON = "the payment no longer exists at the payment provider"
log = logging.getLogger(__name__)


class InventoryCommands(Protocol):
    """Runs one engine command on the event's InventoryActor (through its batching client)."""

    async def __call__(self, event_id: uuid.UUID, command: Command) -> Outcome | Rejected: ...


class SettlementRefused(Exception):
    """The engine said no to a step the caller asked for (e.g. the hold expired at checkout)."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(rejected.message)
        self.rejected = rejected


class SettlementUnavailable(Exception):
    """A dependency (the InventoryActor) cannot take the step now; nothing was lost, retry later."""


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
        self._stripe = stripe
        self._inventory = inventory
        self._clock = clock

    async def order(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> OrderRecord | None:
        async with tenant_transaction(self._pool, tenant_id) as connection:
            return await load_order(connection, order_id)

    async def checkout(
        self, *, event: EventDetails, hold: StoredHold, contact_email: str | None
    ) -> OrderRecord:
        """The hold's order with its PaymentIntent, created now or found from an earlier call."""
        tenant_id, event_id = event.location.tenant_id, event.location.event_id
        hold_id = uuid.UUID(hold.hold_id)
        async with tenant_transaction(self._pool, tenant_id) as connection:
            order = await load_order_of_hold(connection, hold_id)
        if order is None:
            extended = await self._extend_for_checkout(event_id, hold)
            price = price_order(extended.subtotal_cents)
            async with tenant_transaction(self._pool, tenant_id) as connection:
                order = await insert_order(
                    connection,
                    NewOrder(
                        order_id=uuid.UUID(mint_located_id(event.location.event_number)),
                        tenant_id=tenant_id,
                        event_id=event_id,
                        hold_id=hold_id,
                        user_id=hold.fan_id,
                        currency=event.currency,
                        subtotal_cents=price.subtotal_cents,
                        fees_cents=price.fees_cents,
                        total_cents=price.total_cents,
                        expires_at_ms=extended.expires_at_ms,
                        contact_email=contact_email,
                        items=extended.items,
                    ),
                    now_ms=self._clock(),
                )
        return await self._with_payment_intent(order)

    async def _extend_for_checkout(self, event_id: uuid.UUID, hold: StoredHold) -> HoldView:
        """The hold kept through the payment window. A hold that Postgres still shows active but
        the actor no longer keeps has just expired: HOLD_EXPIRED, as for any ended hold."""
        try:
            extended = await self._execute(
                event_id,
                ExtendHold(
                    hold_id=hold.hold_id,
                    fan_id=hold.fan_id,
                    idempotency_key=f"checkout-{hold.hold_id}",
                ),
            )
        except SettlementRefused as refused:
            if refused.rejected.reason is not Reason.NOT_FOUND:
                raise
            raise SettlementRefused(
                Rejected(reason=Reason.HOLD_EXPIRED, message="the hold has expired")
            ) from refused
        assert isinstance(extended, HoldView), extended
        return extended

    async def pay_with_test_card(self, order: OrderRecord, card_number: str) -> OrderRecord:
        """Confirm the order's PaymentIntent with a Stripe test card, then settle the result.

        Raises PaymentDeclined when the card is declined (the order has then failed).
        """
        if order.status != "pending_payment":
            return order
        order = await self._with_payment_intent(order)
        _, payment = order.paid_through()
        assert payment.payment_intent_id is not None
        try:
            intent = await self._stripe.confirm_with_test_card(
                payment.payment_intent_id,
                card_number=card_number,
                idempotency_key=f"order-{order.order_id}-test-payment-{card_number}",
            )
        except PaymentDeclined as declined:
            await self._payment_failed(order, f"the card was declined: {declined}")
            raise
        return await self.apply_payment_intent(order, intent)

    async def apply_payment_intent(
        self, order: OrderRecord, intent: PaymentIntentState
    ) -> OrderRecord:
        """Settle the order by what Stripe says of its PaymentIntent; a pending one waits."""
        if intent.succeeded:
            await self._payment_succeeded(order)
        elif intent.declined and order.status == "pending_payment":
            await self._payment_failed(order, "the payment was declined")
        elif intent.cancelled and order.status == "pending_payment":
            await self._expire(order)
        return await self._reloaded(order)

    async def reconcile(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> None:
        """Take one order left half-way one step further, by asking Stripe where needed."""
        order = await self.order(tenant_id, order_id)
        if order is None:
            return
        async with tenant_transaction(self._pool, tenant_id) as connection:
            refund = await load_refund(connection, order_id)
            live_sale = await sale_is_live(connection, order_id)
        if refund is not None and refund.status == "pending":
            await self._refund(order, RefundKind(refund.kind), refund.reason)
        elif order.status == "refunded" and live_sale:
            await self._return_inventory(order)
        elif order.status == "paid":
            await self._fulfil(order)
        elif order.status == "pending_payment":
            await self._poll(order)

    async def refund(self, order: OrderRecord, reason: str) -> OrderRecord:
        """The venue's refund of a paid order: money back, tickets refunded, inventory on sale."""
        await self._refund(order, RefundKind.VENUE, reason)
        return await self._reloaded(order)

    async def _poll(self, order: OrderRecord) -> None:
        now_ms = self._clock()
        payment_intent_id = order.paid_through()[1].payment_intent_id
        if payment_intent_id is None:
            if now_ms >= order.expires_at_ms:
                await self._end_unpaid(order, "expired", "cancelled", WINDOW_ENDED_REASON)
            else:
                await self._poll_later(order, now_ms)
            return
        try:
            intent = await self._stripe.retrieve_payment_intent(payment_intent_id)
        except PaymentIntentMissing:
            if now_ms >= order.expires_at_ms:
                await self._payment_intent_vanished(order, "expired", "cancelled")
            else:
                await self._payment_intent_vanished(order, "payment_failed", "failed")
            return
        if intent.succeeded or intent.declined or intent.cancelled:
            await self.apply_payment_intent(order, intent)
        elif now_ms >= order.expires_at_ms:
            await self._expire(order)
        else:
            await self._poll_later(order, now_ms)

    async def _poll_later(self, order: OrderRecord, now_ms: int) -> None:
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            await poll_again_at(
                connection,
                order_id=order.order_id,
                at_ms=now_ms + limits.PAYMENT_POLL_INTERVAL_S * MILLISECONDS_PER_SECOND,
            )

    async def _with_payment_intent(self, order: OrderRecord) -> OrderRecord:
        """Create the order's one PaymentIntent if it has none yet, with the stored key."""
        hold_id, payment = order.paid_through()
        if payment.payment_intent_id is not None:
            return order
        intent = await self._stripe.create_payment_intent(
            amount_cents=order.total_cents,
            currency=order.currency,
            idempotency_key=payment.idempotency_key,
            metadata={
                "order_id": str(order.order_id),
                "event_id": str(order.event_id),
                "tenant_id": str(order.tenant_id),
                "hold_id": str(hold_id),
            },
        )
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            await record_payment_intent(
                connection,
                order_id=order.order_id,
                payment_intent_id=intent.payment_intent_id,
                client_secret=intent.client_secret,
            )
        return await self._reloaded(order)

    async def _payment_succeeded(self, order: OrderRecord) -> None:
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            await mark_paid(connection, order_id=order.order_id, now_ms=self._clock())
            order = await self._reload_in(connection, order)
        if order.status in ("payment_failed", "expired", "cancelled"):
            await self._refund(order, RefundKind.LATE_PAYMENT, LATE_PAYMENT_REASON)
        elif order.status == "paid":
            await self._fulfil(order)

    async def _fulfil(self, order: OrderRecord) -> None:
        """Sell the hold in the inventory, then issue the tickets, mints, ledger and notice."""
        hold_id, payment = order.paid_through()
        converted = await self._inventory(
            order.event_id,
            ConvertHold(
                hold_id=str(hold_id),
                new_order_id=str(order.order_id),
                idempotency_key=f"convert-{order.order_id}",
            ),
        )
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            live_sale = await sale_is_live(connection, order.order_id)
        if isinstance(converted, Rejected) and not live_sale:
            if converted.reason in HOLD_GONE:
                await self._refund(order, RefundKind.LATE_PAYMENT, LATE_PAYMENT_REASON)
                return
            raise SettlementUnavailable(f"the sale could not be recorded: {converted.message}")
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            hold = await load_hold(connection, event_id=order.event_id, hold_id=hold_id)
            assert hold is not None, "an order's hold exists"
            if not await mark_fulfilled(connection, order.order_id):
                return
            names = await load_event_names(connection, order.event_id)
            event_number = event_number_of(order.order_id)
            assert event_number is not None, "order ids carry their event's number"
            tickets = await issue_tickets(
                connection,
                event_id=order.event_id,
                order_id=order.order_id,
                owner_user_id=order.user_id,
                items=hold.items,
                seats=hold.seats,
                new_ticket_id=lambda: uuid.UUID(mint_located_id(event_number)),
            )
            price = price_order(order.subtotal_cents)
            assert price.total_cents == order.total_cents, "the order was priced by the same rule"
            await record_ledger_entries(
                connection,
                entries=sale_entries(price),
                currency=order.currency,
                order_id=order.order_id,
                payment_id=payment.payment_id,
            )
            await write_outbox(
                connection,
                [
                    *mint_requests(order, names, tickets),
                    order_notice(NoticeKind.ORDER_CONFIRMED, order, names, tickets=tickets),
                ],
            )

    async def _payment_failed(self, order: OrderRecord, reason: str) -> None:
        await self._cancel_unpaid(order, "payment_failed", "failed", reason)

    async def _expire(self, order: OrderRecord) -> None:
        await self._cancel_unpaid(order, "expired", "cancelled", WINDOW_ENDED_REASON)

    async def _cancel_unpaid(
        self, order: OrderRecord, status: str, payment_status: str, reason: str
    ) -> None:
        """Cancel the PaymentIntent and end the order; a payment that succeeded meanwhile wins."""
        payment_intent_id = order.paid_through()[1].payment_intent_id
        if payment_intent_id is not None:
            intent = await self._stripe.cancel_payment_intent(
                payment_intent_id,
                idempotency_key=f"order-{order.order_id}-cancel",
            )
            if intent.succeeded:
                await self._payment_succeeded(order)
                return
        await self._end_unpaid(order, status, payment_status, reason)

    async def _payment_intent_vanished(
        self, order: OrderRecord, status: str, payment_status: str
    ) -> None:
        """No money moves through a PaymentIntent Stripe no longer has: the unpaid order ends,
        its hold is released, and the operator hears of it once."""
        if await self._end_unpaid(order, status, payment_status, VANISHED_REASON):
            log.error(
                "an unpaid order's PaymentIntent no longer exists at Stripe: the order has ended",
                extra={
                    "order_id": str(order.order_id),
                    "payment_intent_id": order.paid_through()[1].payment_intent_id,
                    "status": status,
                },
            )

    async def _end_unpaid(
        self, order: OrderRecord, status: str, payment_status: str, reason: str
    ) -> bool:
        """End an unpaid order and release its hold; whether this call ended it."""
        kind = NoticeKind.PAYMENT_FAILED if status == "payment_failed" else NoticeKind.ORDER_EXPIRED
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            names = await load_event_names(connection, order.event_id)
            ended = await end_unpaid_order(
                connection,
                order_id=order.order_id,
                status=status,
                payment_status=payment_status,
                reason=reason,
                outbox=[order_notice(kind, order, names, reason=reason)],
            )
        if ended:
            await self._release_hold(order)
        return ended

    async def _release_hold(self, order: OrderRecord) -> None:
        """Give the hold's inventory back now; if the actor cannot answer, its expiry will."""
        released = await self._inventory(
            order.event_id,
            ReleaseHold(
                hold_id=str(order.paid_through()[0]),
                fan_id=order.user_id,
                idempotency_key=f"release-{order.order_id}",
            ),
        )
        if isinstance(released, Rejected) and released.reason not in HOLD_GONE:
            log.warning(
                "the hold of an ended order stays until it expires",
                extra={"order_id": str(order.order_id), "reason": released.reason},
            )

    async def _refund(self, order: OrderRecord, kind: RefundKind, reason: str) -> None:
        """Refund the whole order through Stripe, once, and then give its inventory back."""
        _, payment = order.paid_through()
        payment_intent_id = payment.payment_intent_id
        assert payment_intent_id is not None, "only a paid order is refunded"
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            refund = await open_refund(
                connection,
                order_id=order.order_id,
                amount_cents=order.total_cents,
                reason=reason,
                kind=kind,
            )
        if refund.status == "pending":
            provider_refund_id = await self._stripe.refund(
                payment_intent_id,
                amount_cents=refund.amount_cents,
                idempotency_key=refund.idempotency_key,
                metadata={"order_id": str(order.order_id), "kind": refund.kind},
            )
            async with tenant_transaction(self._pool, order.tenant_id) as connection:
                had_sale = await has_sale_entries(connection, order.order_id)
                completed = await complete_refund(
                    connection,
                    order_id=order.order_id,
                    provider_refund_id=provider_refund_id,
                    reason=refund.reason,
                    now_ms=self._clock(),
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
        await self._return_inventory(order)

    async def _return_inventory(self, order: OrderRecord) -> None:
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            live_sale = await sale_is_live(connection, order.order_id)
        if not live_sale:
            return
        returned = await self._inventory(
            order.event_id,
            RefundOrder(order_id=str(order.order_id), idempotency_key=f"refund-{order.order_id}"),
        )
        if isinstance(returned, Rejected) and returned.reason is not Reason.NOT_FOUND:
            raise SettlementUnavailable(f"the inventory was not given back: {returned.message}")

    async def _execute(self, event_id: uuid.UUID, command: Command) -> Outcome:
        result = await self._inventory(event_id, command)
        if isinstance(result, Rejected):
            if result.reason in (Reason.UNAVAILABLE, Reason.BUSY):
                raise SettlementUnavailable(result.message)
            raise SettlementRefused(result)
        return result

    async def _reloaded(self, order: OrderRecord) -> OrderRecord:
        async with tenant_transaction(self._pool, order.tenant_id) as connection:
            return await self._reload_in(connection, order)

    @staticmethod
    async def _reload_in(connection: asyncpg.Connection, order: OrderRecord) -> OrderRecord:
        reloaded = await load_order(connection, order.order_id)
        assert reloaded is not None, "orders are never deleted"
        return reloaded
