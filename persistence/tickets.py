"""Tickets as their owners and venues read them, with the state of each one's NFT.

A ticket that replaced another (a transfer, a reissue) carries the NFT of the first ticket of its
line, so the NFT is read through `nft_ticket_id`. A fan's tickets are listed newest first by
(issued_at, id), which `TicketPosition` marks exactly, so a listing pages without gaps or repeats.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec


class MintRecord(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    mint_address: str | None
    signature: str | None


class TicketRecord(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    event_id: uuid.UUID
    order_id: uuid.UUID
    ticket_type_id: uuid.UUID
    seat: str | None
    owner_user_id: str
    status: str
    issued_at_ms: int
    mint: MintRecord
    status_reason: str | None = None
    checked_in_at_ms: int | None = None
    issued_at_us: int = 0


class TicketPosition(msgspec.Struct, frozen=True, kw_only=True):
    """Where a ticket sits in its owner's listing: issued_at in microseconds, then its id."""

    issued_at_us: int
    ticket_id: uuid.UUID


MICROSECONDS_PER_MILLISECOND = 1_000

SELECT_TICKETS = """
SELECT tickets.id AS ticket_id, tickets.event_id, tickets.order_id, tickets.ticket_type_id,
       seats.label AS seat, tickets.owner_user_id, tickets.status, tickets.status_reason,
       (extract(epoch FROM tickets.issued_at) * 1000000)::bigint AS issued_at_us,
       (extract(epoch FROM tickets.checked_in_at) * 1000)::bigint AS checked_in_at_ms,
       coalesce(nft_mints.status, 'pending') AS mint_status, nft_mints.mint_address,
       nft_mints.signature
FROM tickets
LEFT JOIN seats ON seats.id = tickets.seat_id
LEFT JOIN nft_mints ON nft_mints.ticket_id = coalesce(tickets.nft_ticket_id, tickets.id)
"""


def _ticket(row: asyncpg.Record) -> TicketRecord:
    return TicketRecord(
        ticket_id=row["ticket_id"],
        event_id=row["event_id"],
        order_id=row["order_id"],
        ticket_type_id=row["ticket_type_id"],
        seat=row["seat"],
        owner_user_id=row["owner_user_id"],
        status=row["status"],
        issued_at_ms=row["issued_at_us"] // MICROSECONDS_PER_MILLISECOND,
        mint=MintRecord(
            status=row["mint_status"],
            mint_address=row["mint_address"],
            signature=row["signature"],
        ),
        status_reason=row["status_reason"],
        checked_in_at_ms=row["checked_in_at_ms"],
        issued_at_us=row["issued_at_us"],
    )


def position_of(ticket: TicketRecord) -> TicketPosition:
    return TicketPosition(issued_at_us=ticket.issued_at_us, ticket_id=ticket.ticket_id)


async def load_order_tickets(
    connection: asyncpg.Connection, order_id: uuid.UUID
) -> list[TicketRecord]:
    rows = await connection.fetch(
        SELECT_TICKETS + "WHERE tickets.order_id = $1 ORDER BY tickets.position, tickets.issued_at",
        order_id,
    )
    return [_ticket(row) for row in rows]


async def load_tickets_of_orders(
    connection: asyncpg.Connection, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[TicketRecord]]:
    """The tickets of each of `order_ids`, in each order's own order, as load_order_tickets."""
    rows = await connection.fetch(
        SELECT_TICKETS
        + "WHERE tickets.order_id = ANY($1::uuid[])"
        + " ORDER BY tickets.order_id, tickets.position, tickets.issued_at",
        order_ids,
    )
    tickets: dict[uuid.UUID, list[TicketRecord]] = {order_id: [] for order_id in order_ids}
    for row in rows:
        tickets[row["order_id"]].append(_ticket(row))
    return tickets


async def load_ticket(connection: asyncpg.Connection, ticket_id: uuid.UUID) -> TicketRecord | None:
    row = await connection.fetchrow(SELECT_TICKETS + "WHERE tickets.id = $1", ticket_id)
    return None if row is None else _ticket(row)


SELECT_OWNER_TICKETS = (
    SELECT_TICKETS
    + """
WHERE tickets.owner_user_id = $1
  AND ($2::uuid IS NULL OR tickets.event_id = $2)
  AND tickets.status = ANY($3::text[])
  AND ($4::bigint IS NULL
       OR (tickets.issued_at, tickets.id)
          < (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::uuid))
ORDER BY tickets.issued_at DESC, tickets.id DESC
LIMIT $6
"""
)


async def list_owner_tickets(
    connection: asyncpg.Connection,
    *,
    owner_user_id: str,
    event_id: uuid.UUID | None,
    statuses: Sequence[str],
    after: TicketPosition | None,
    limit: int,
) -> list[TicketRecord]:
    """The owner's tickets in the transaction's tenant with one of `statuses`, newest first,
    from just after `after` (or from the newest)."""
    rows = await connection.fetch(
        SELECT_OWNER_TICKETS,
        owner_user_id,
        event_id,
        list(statuses),
        None if after is None else after.issued_at_us,
        None if after is None else after.ticket_id,
        limit,
    )
    return [_ticket(row) for row in rows]
