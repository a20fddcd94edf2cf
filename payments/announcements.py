"""The outbox messages a settled order sends: a mint request per ticket and notices to the fan.

Each is written in the transaction of the change it announces (persistence.orders.OutboxEntry);
minting and notifications read them back from the outbox, at least once.
"""

import uuid

import msgspec

from minting.requests import MINT_TOPIC, MintRequest
from notifications.notices import Notice, NoticeKind, NoticeTicket, encode_notice, notice_topic
from persistence.fulfilment import EventNames, IssuedTicket
from persistence.orders import OrderRecord, OutboxEntry


def mint_requests(
    order: OrderRecord, names: EventNames, tickets: list[IssuedTicket]
) -> list[OutboxEntry]:
    return ticket_mint_requests(
        tenant_id=order.tenant_id,
        event_id=order.event_id,
        order_id=order.order_id,
        owner_user_id=order.user_id,
        names=names,
        tickets=tickets,
    )


def ticket_mint_requests(
    *,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    order_id: uuid.UUID,
    owner_user_id: str,
    names: EventNames,
    tickets: list[IssuedTicket],
) -> list[OutboxEntry]:
    """A mint request per ticket of an order, paid or complimentary."""
    return [
        OutboxEntry(
            topic=MINT_TOPIC,
            aggregate_id=str(ticket.ticket_id),
            payload=msgspec.json.encode(
                MintRequest(
                    ticket_id=ticket.ticket_id,
                    tenant_id=tenant_id,
                    event_id=event_id,
                    order_id=order_id,
                    owner_user_id=owner_user_id,
                    event_name=names.event_name,
                    ticket_type_name=names.ticket_type_names[ticket.ticket_type_id],
                    seat=ticket.seat,
                )
            ).decode(),
        )
        for ticket in tickets
    ]


def order_notice(
    kind: NoticeKind,
    order: OrderRecord,
    names: EventNames,
    *,
    tickets: list[IssuedTicket] | None = None,
    reason: str | None = None,
    resend_id: uuid.UUID | None = None,
) -> OutboxEntry:
    notice = Notice(
        kind=kind,
        tenant_id=order.tenant_id,
        event_id=order.event_id,
        event_name=names.event_name,
        order_id=order.order_id,
        user_id=order.user_id,
        email=order.contact_email,
        total_cents=order.total_cents,
        currency=order.currency,
        tickets=tuple(
            NoticeTicket(
                ticket_id=ticket.ticket_id,
                ticket_type_name=names.ticket_type_names[ticket.ticket_type_id],
                seat=ticket.seat,
            )
            for ticket in tickets or ()
        ),
        reason=reason,
        resend_id=resend_id,
    )
    return OutboxEntry(
        topic=notice_topic(kind), aggregate_id=str(order.order_id), payload=encode_notice(notice)
    )
