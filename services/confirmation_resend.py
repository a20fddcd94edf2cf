"""Sending a paid order's confirmation again, at the service desk's request.

The confirmation is written to the outbox as the first one was, naming the order's tickets its
buyer still holds and that still admit (one given away is the recipient's now), with a
`resend_id` of its own: the notification worker sends each resend once, however often the
outbox delivers it. The request's Idempotency-Key keeps one request from sending twice.
"""

import uuid

import asyncpg

from engine.order_lifecycle import OrderStatus
from engine.tickets import TicketStatus
from notifications.notices import NoticeKind
from payments.announcements import order_notice
from persistence.fulfilment import IssuedTicket, load_event_names
from persistence.orders import OrderRecord, write_outbox
from persistence.tenancy import tenant_transaction
from persistence.tickets import load_order_tickets
from services.refusals import ConfirmationNotResendable

CONFIRMED_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.FULFILLED})
# The tickets a confirmation names: those that still get their holder in.
ADMITTING_STATUSES = frozenset({TicketStatus.VALID, TicketStatus.CHECKED_IN, TicketStatus.LOCKED})


async def resend_confirmation(
    pool: asyncpg.Pool, *, order: OrderRecord, resend_id: uuid.UUID
) -> None:
    """Queue the confirmation again; ConfirmationNotResendable unless the order is paid and has
    an address."""
    if order.status not in CONFIRMED_STATUSES:
        raise ConfirmationNotResendable(order_status=order.status, lacks_email=False)
    if order.contact_email is None:
        raise ConfirmationNotResendable(order_status=order.status, lacks_email=True)
    async with tenant_transaction(pool, order.tenant_id) as connection:
        names = await load_event_names(connection, order.event_id)
        tickets = [
            IssuedTicket(
                ticket_id=ticket.ticket_id,
                ticket_type_id=ticket.ticket_type_id,
                seat=ticket.seat,
                position=position,
            )
            for position, ticket in enumerate(await load_order_tickets(connection, order.order_id))
            if ticket.status in ADMITTING_STATUSES and ticket.owner_user_id == order.user_id
        ]
        notice = order_notice(
            NoticeKind.ORDER_CONFIRMED, order, names, tickets=tickets, resend_id=resend_id
        )
        await write_outbox(connection, [notice])
