"""An order's tickets as a refund sees them: each one's face value (its order item's unit price),
seat and ticket type, and the live refund it is already in, if any."""

import uuid

import asyncpg
import msgspec


class TicketValue(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    ticket_type_id: uuid.UUID
    seat: str | None
    status: str
    face_cents: int
    live_refund_id: uuid.UUID | None


SELECT_TICKET_VALUES = """
SELECT tickets.id AS ticket_id, tickets.ticket_type_id, seats.label AS seat, tickets.status,
       order_items.unit_price_cents AS face_cents, refund_tickets.refund_id AS live_refund_id
FROM tickets
JOIN order_items ON order_items.order_id = tickets.order_id
                AND order_items.ticket_type_id = tickets.ticket_type_id
LEFT JOIN seats ON seats.id = tickets.seat_id
LEFT JOIN refund_tickets ON refund_tickets.ticket_id = tickets.id AND refund_tickets.live
WHERE tickets.order_id = $1
ORDER BY tickets.position, tickets.issued_at
"""


async def load_ticket_values(
    connection: asyncpg.Connection, order_id: uuid.UUID
) -> list[TicketValue]:
    rows = await connection.fetch(SELECT_TICKET_VALUES, order_id)
    return [TicketValue(**dict(row)) for row in rows]


SELECT_LISTED_TICKET_VALUES = SELECT_TICKET_VALUES.replace(
    "WHERE tickets.order_id = $1", "WHERE tickets.id = ANY($1::uuid[])"
)


async def load_listed_ticket_values(
    connection: asyncpg.Connection, ticket_ids: list[uuid.UUID]
) -> list[TicketValue]:
    rows = await connection.fetch(SELECT_LISTED_TICKET_VALUES, ticket_ids)
    return [TicketValue(**dict(row)) for row in rows]
