"""Opening a refund: the kernel every refund goes through (the venue's, a cancellation's, a fan's,
one made at Stripe's dashboard, a late payment's).

`request_refund` runs in the caller's tenant transaction: it decides what goes back (the whole
order's remaining tickets and money, some tickets, or an amount of money alone), stores the refund
with its Stripe idempotency key and writes a `payment.refund` message, so a payment worker
executes it (services/refund_execution.py). Asking again for the same tickets while their refund
is pending or succeeded answers that refund; the order's row is locked first, so two requests for
one order open one refund between them.
"""

import uuid
from collections.abc import Sequence

import asyncpg

from engine.order_lifecycle import OrderStatus
from engine.refund_amounts import (
    NOTHING,
    RefundAmounts,
    money_refund_amounts,
    tickets_refund_amounts,
    whole_order_refund_amounts,
)
from payments.refund_messages import RefundMessage, refund_outbox_entry
from persistence.order_ticket_values import TicketValue, load_ticket_values
from persistence.orders import OrderRecord, write_outbox
from persistence.refund_completion import REFUNDABLE_TICKET_STATUSES
from persistence.refunds import (
    NewRefund,
    RefundKind,
    RefundRecord,
    load_order_refunds,
    load_refund_of_provider,
    open_refund,
)
from services.refusals import OrderNotRefundable, RefundMisstated

LOCK_ORDER = "SELECT 1 FROM orders WHERE id = $1 FOR UPDATE"
# Orders whose tickets exist and may go back some at a time.
PARTLY_REFUNDABLE_STATUSES = frozenset({OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED})


async def request_refund(
    connection: asyncpg.Connection,
    *,
    order: OrderRecord,
    kind: RefundKind,
    reason: str,
    ticket_ids: Sequence[uuid.UUID] | None = None,
    refund_fees: bool = True,
    provider_refund_id: str | None = None,
    amount_cents: int | None = None,
) -> RefundRecord:
    """The refund of those tickets (None: all the order has left), opened now or earlier.

    `provider_refund_id`: the money already went back at Stripe; the worker only records it.
    `amount_cents` (without tickets): money alone goes back, the tickets stay valid, unless it
    is all the order has left. Raises RefundMisstated for tickets not the order's or already
    refunded, OrderNotRefundable for an order that never took money.
    """
    if order.complimentary:
        raise OrderNotRefundable(order_status=order.status, complimentary=True)
    await connection.execute(LOCK_ORDER, order.order_id)
    if provider_refund_id is not None:
        known = await load_refund_of_provider(connection, provider_refund_id)
        if known is not None:
            return known
    refunds = [refund for refund in await load_order_refunds(connection, order.order_id)]
    live = [refund for refund in refunds if refund.is_live]
    refunded = sum((refund.amounts or _whole(order) for refund in live), NOTHING)
    tickets = await load_ticket_values(connection, order.order_id)
    draft = _Draft(order=order, kind=kind, reason=reason, provider_refund_id=provider_refund_id)
    if amount_cents is not None:
        if ticket_ids is not None:
            raise RefundMisstated("give either tickets or an amount, not both")
        left_cents = order.total_cents - refunded.total_cents
        if amount_cents <= 0 or left_cents <= 0:
            raise RefundMisstated("the amount must be positive and the order must have money left")
        if amount_cents < left_cents:
            amounts = money_refund_amounts(
                amount_cents=amount_cents,
                subtotal_cents=order.subtotal_cents,
                refunded_before=refunded,
            )
            return await draft.open(
                connection,
                amounts=amounts,
                refund_fees=amounts.face_cents < amounts.total_cents,
                whole_order=False,
                tickets=(),
            )
    if ticket_ids is None:
        return await _whole_order(connection, draft, live, refunded, tickets, refund_fees)
    return await _some_tickets(connection, draft, live, tickets, ticket_ids, refund_fees)


def _whole(order: OrderRecord) -> RefundAmounts:
    """A refund opened before refunds had parts gave the whole order back."""
    return whole_order_refund_amounts(
        subtotal_cents=order.subtotal_cents, refunded_before=NOTHING, refund_fees=True
    )


class _Draft:
    def __init__(
        self, *, order: OrderRecord, kind: RefundKind, reason: str, provider_refund_id: str | None
    ) -> None:
        self.order = order
        self.kind = kind
        self.reason = reason
        self.provider_refund_id = provider_refund_id

    async def open(
        self,
        connection: asyncpg.Connection,
        *,
        amounts: RefundAmounts,
        refund_fees: bool,
        whole_order: bool,
        tickets: Sequence[TicketValue],
    ) -> RefundRecord:
        refund = await open_refund(
            connection,
            NewRefund(
                refund_id=uuid.uuid4(),
                order_id=self.order.order_id,
                kind=self.kind,
                reason=self.reason,
                amounts=amounts,
                refund_fees=refund_fees,
                whole_order=whole_order,
                tickets=tuple((ticket.ticket_id, ticket.face_cents) for ticket in tickets),
                provider_refund_id=self.provider_refund_id,
            ),
        )
        message = RefundMessage(
            tenant_id=self.order.tenant_id, order_id=self.order.order_id, refund_id=refund.refund_id
        )
        await write_outbox(connection, [refund_outbox_entry(message)])
        return refund


async def _whole_order(
    connection: asyncpg.Connection,
    draft: _Draft,
    live: list[RefundRecord],
    refunded: RefundAmounts,
    tickets: list[TicketValue],
    refund_fees: bool,
) -> RefundRecord:
    amounts = whole_order_refund_amounts(
        subtotal_cents=draft.order.subtotal_cents, refunded_before=refunded, refund_fees=refund_fees
    )
    if amounts.total_cents == 0:
        if live:
            return live[-1]
        raise RefundMisstated("the order has no money left to refund")
    remaining = [
        ticket
        for ticket in tickets
        if ticket.live_refund_id is None and ticket.status in REFUNDABLE_TICKET_STATUSES
    ]
    return await draft.open(
        connection, amounts=amounts, refund_fees=refund_fees, whole_order=True, tickets=remaining
    )


async def _some_tickets(
    connection: asyncpg.Connection,
    draft: _Draft,
    live: list[RefundRecord],
    tickets: list[TicketValue],
    ticket_ids: Sequence[uuid.UUID],
    refund_fees: bool,
) -> RefundRecord:
    asked = frozenset(ticket_ids)
    if not asked:
        raise RefundMisstated("name at least one ticket, or none to refund the whole order")
    for refund in live:
        if frozenset(refund.ticket_ids) == asked:
            return refund
    by_id = {ticket.ticket_id: ticket for ticket in tickets}
    strangers = sorted(str(ticket_id) for ticket_id in asked if ticket_id not in by_id)
    if strangers:
        raise RefundMisstated("some tickets are not this order's", ticket_ids=tuple(strangers))
    ended = sorted(
        str(ticket_id)
        for ticket_id in asked
        if by_id[ticket_id].live_refund_id is not None
        or by_id[ticket_id].status not in REFUNDABLE_TICKET_STATUSES
    )
    if ended:
        raise RefundMisstated(
            "some tickets are already refunded or can no longer be refunded",
            ticket_ids=tuple(ended),
        )
    if draft.order.status not in PARTLY_REFUNDABLE_STATUSES:
        raise OrderNotRefundable(order_status=draft.order.status, complimentary=False)
    chosen = [ticket for ticket in tickets if ticket.ticket_id in asked]
    face_before = sum(ticket.face_cents for ticket in tickets if ticket.live_refund_id is not None)
    amounts = tickets_refund_amounts(
        face_cents=sum(ticket.face_cents for ticket in chosen),
        face_refunded_before_cents=face_before,
        refund_fees=refund_fees,
    )
    if amounts.total_cents == 0:
        raise RefundMisstated("these tickets cost nothing: there is no money to refund")
    return await draft.open(
        connection, amounts=amounts, refund_fees=refund_fees, whole_order=False, tickets=chosen
    )
