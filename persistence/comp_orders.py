"""Complimentary orders: the tickets a venue gives away, written like a paid order's but for
nothing, in one transaction of the event's tenant.

The engine has recorded the complimentary sale first (`IssueComps`), which is what counts the
tickets as sold; this writes the order that names why they were given (no hold, no payment, every
amount zero), its items, one ticket per seat or unit with a pending mint, and an audit entry. The
order id is the sale's, so writing it again finds the order and issues nothing twice.
"""

import uuid
from collections.abc import Callable, Sequence

import asyncpg

from engine.comps import CompReason
from engine.holds import HoldItem
from engine.order_lifecycle import COMPLIMENTARY_ORDER_STATUS
from persistence.fulfilment import IssuedTicket, issue_tickets
from persistence.ticket_moves import record_audit

INSERT_COMP_ORDER = """
INSERT INTO orders (id, tenant_id, event_id, user_id, status, currency, subtotal_cents,
                    fees_cents, total_cents, expires_at, paid_at, contact_email, comp_reason)
VALUES ($1, current_setting('app.current_tenant_id')::uuid, $2, $3, $7, $4, 0, 0, 0,
        now(), now(), $5, $6)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""

INSERT_COMP_ITEMS = """
INSERT INTO order_items (order_id, ticket_type_id, tenant_id, event_id, quantity,
                         unit_price_cents)
SELECT $1, item.ticket_type_id, current_setting('app.current_tenant_id')::uuid, $2,
       item.quantity, 0
FROM unnest($3::uuid[], $4::integer[]) AS item (ticket_type_id, quantity)
"""


async def record_comp_order(
    connection: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    event_id: uuid.UUID,
    owner_user_id: str,
    currency: str,
    contact_email: str | None,
    reason: CompReason,
    items: Sequence[HoldItem],
    seats: Sequence[str],
    given_by: str,
    note: str | None,
    new_ticket_id: Callable[[], uuid.UUID],
) -> list[IssuedTicket] | None:
    """The tickets issued for the comp sale `order_id`; None when its order was written before."""
    inserted = await connection.fetchval(
        INSERT_COMP_ORDER,
        order_id,
        event_id,
        owner_user_id,
        currency,
        contact_email,
        reason,
        COMPLIMENTARY_ORDER_STATUS,
    )
    if inserted is None:
        return None
    await connection.execute(
        INSERT_COMP_ITEMS,
        order_id,
        event_id,
        [uuid.UUID(item.ticket_type_id) for item in items],
        [item.quantity for item in items],
    )
    tickets = await issue_tickets(
        connection,
        event_id=event_id,
        order_id=order_id,
        owner_user_id=owner_user_id,
        items=items,
        seats=seats,
        new_ticket_id=new_ticket_id,
    )
    await record_audit(
        connection,
        actor=given_by,
        action="comps.issue",
        subject_type="order",
        subject_id=order_id,
        details={"reason": reason.value, "to_user_id": owner_user_id, "note": note},
    )
    return tickets
