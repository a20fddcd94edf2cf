"""An order's tickets as a refund sees them: each one's face value, seat and ticket type, and the
live refund it is already in, if any.

A ticket's face value is its order item's unit price. An order may buy one ticket type at two
prices (a price phase changed while it was held); its tickets of that type then take the prices
in ascending order, one each, by position, so the faces of an order's tickets add up to its
subtotal.
"""

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


SELECT_TICKETS = """
SELECT tickets.id AS ticket_id, tickets.ticket_type_id, seats.label AS seat, tickets.status,
       refund_tickets.refund_id AS live_refund_id
FROM tickets
LEFT JOIN seats ON seats.id = tickets.seat_id
LEFT JOIN refund_tickets ON refund_tickets.ticket_id = tickets.id AND refund_tickets.live
WHERE tickets.order_id = $1
ORDER BY tickets.position, tickets.issued_at
"""

SELECT_PRICES = """
SELECT ticket_type_id, unit_price_cents, quantity FROM order_items
WHERE order_id = $1
ORDER BY ticket_type_id, unit_price_cents
"""


async def load_ticket_values(
    connection: asyncpg.Connection, order_id: uuid.UUID
) -> list[TicketValue]:
    tickets = await connection.fetch(SELECT_TICKETS, order_id)
    prices: dict[uuid.UUID, list[int]] = {}
    for row in await connection.fetch(SELECT_PRICES, order_id):
        prices.setdefault(row["ticket_type_id"], []).extend(
            [row["unit_price_cents"]] * row["quantity"]
        )
    taken: dict[uuid.UUID, int] = {}
    values: list[TicketValue] = []
    for row in tickets:
        of_type = prices.get(row["ticket_type_id"]) or [0]
        index = taken.get(row["ticket_type_id"], 0)
        taken[row["ticket_type_id"]] = index + 1
        values.append(TicketValue(**dict(row), face_cents=of_type[min(index, len(of_type) - 1)]))
    return values
