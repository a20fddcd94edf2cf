"""What a paid order becomes, written in one transaction: its tickets, one per seat or unit, each
with its own code key pair; a pending mint per ticket; and the ledger entries of its money.

The caller opens the tenant transaction and moves the order to `fulfilled` first
(`mark_fulfilled`), so a second attempt finds the order already fulfilled and writes nothing.
"""

import uuid
from collections.abc import Callable, Sequence

import asyncpg
import msgspec

from engine.holds import HoldItem
from engine.ledger import LedgerEntry
from engine.order_lifecycle import OrderAction, order_status_after, order_statuses_left_by
from persistence.ticket_keys import new_code_key_pair


class IssuedTicket(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    ticket_type_id: uuid.UUID
    seat: str | None
    position: int


class EventNames(msgspec.Struct, frozen=True, kw_only=True):
    event_name: str
    ticket_type_names: dict[uuid.UUID, str]


MARK_FULFILLED = """
UPDATE orders SET status = $2, updated_at = now()
WHERE id = $1 AND status = ANY($3::text[])
RETURNING 1
"""


FULFILLED_FROM = tuple(sorted(order_statuses_left_by(OrderAction.FULFIL)))


async def mark_fulfilled(connection: asyncpg.Connection, order_id: uuid.UUID) -> bool:
    """Move a paid order to fulfilled (its payment stays); False if it had already moved."""
    moved = await connection.fetchval(
        MARK_FULFILLED, order_id, order_status_after(OrderAction.FULFIL), FULFILLED_FROM
    )
    return moved is not None


SELECT_EVENT_NAMES = """
SELECT events.name AS event_name, ticket_types.id AS ticket_type_id,
       ticket_types.name AS ticket_type_name
FROM events JOIN ticket_types ON ticket_types.event_id = events.id
WHERE events.id = $1
"""


async def load_event_names(connection: asyncpg.Connection, event_id: uuid.UUID) -> EventNames:
    rows = await connection.fetch(SELECT_EVENT_NAMES, event_id)
    assert rows, f"event {event_id} has ticket types"
    return EventNames(
        event_name=rows[0]["event_name"],
        ticket_type_names={row["ticket_type_id"]: row["ticket_type_name"] for row in rows},
    )


SELECT_SEATS = """
SELECT label, id, ticket_type_id FROM seats WHERE event_id = $1 AND label = ANY($2::text[])
"""

INSERT_TICKETS = """
INSERT INTO tickets (id, tenant_id, event_id, order_id, ticket_type_id, seat_id, owner_user_id,
                     code_seed, code_public_key, position)
SELECT ticket.id, current_setting('app.current_tenant_id')::uuid, $1, $2, ticket.ticket_type_id,
       ticket.seat_id, $3, ticket.code_seed, ticket.code_public_key, ticket.position
FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::bytea[], $8::bytea[], $9::integer[])
     AS ticket (id, ticket_type_id, seat_id, code_seed, code_public_key, position)
"""

INSERT_PENDING_MINTS = """
INSERT INTO nft_mints (tenant_id, ticket_id)
SELECT current_setting('app.current_tenant_id')::uuid, ticket_id
FROM unnest($1::uuid[]) AS ticket_id
"""


async def issue_tickets(
    connection: asyncpg.Connection,
    *,
    event_id: uuid.UUID,
    order_id: uuid.UUID,
    owner_user_id: str,
    items: Sequence[HoldItem],
    seats: Sequence[str],
    new_ticket_id: Callable[[], uuid.UUID],
) -> list[IssuedTicket]:
    """One ticket per seat, then one per general-admission unit, each with a pending mint."""
    seat_rows = {
        row["label"]: row for row in await connection.fetch(SELECT_SEATS, event_id, list(seats))
    }
    assert len(seat_rows) == len(seats), "every seat of a sale exists"
    planned: list[tuple[uuid.UUID, uuid.UUID | None, str | None]] = [
        (seat_rows[label]["ticket_type_id"], seat_rows[label]["id"], label) for label in seats
    ]
    seated_per_type: dict[uuid.UUID, int] = {}
    for ticket_type_id, _, _ in planned:
        seated_per_type[ticket_type_id] = seated_per_type.get(ticket_type_id, 0) + 1
    for item in items:
        ticket_type_id = uuid.UUID(item.ticket_type_id)
        units = item.quantity - seated_per_type.get(ticket_type_id, 0)
        planned.extend((ticket_type_id, None, None) for _ in range(units))
    tickets = [
        IssuedTicket(
            ticket_id=new_ticket_id(), ticket_type_id=ticket_type_id, seat=label, position=position
        )
        for position, (ticket_type_id, _, label) in enumerate(planned)
    ]
    key_pairs = [new_code_key_pair() for _ in tickets]
    await connection.execute(
        INSERT_TICKETS,
        event_id,
        order_id,
        owner_user_id,
        [ticket.ticket_id for ticket in tickets],
        [ticket.ticket_type_id for ticket in tickets],
        [seat_id for _, seat_id, _ in planned],
        [key_pair.seed for key_pair in key_pairs],
        [key_pair.public_key for key_pair in key_pairs],
        [ticket.position for ticket in tickets],
    )
    await connection.execute(INSERT_PENDING_MINTS, [ticket.ticket_id for ticket in tickets])
    return tickets


INSERT_LEDGER_ENTRIES = """
INSERT INTO ledger_entries (tenant_id, transaction_id, account, direction, amount_cents, currency,
                            order_id, payment_id, refund_id)
SELECT current_setting('app.current_tenant_id')::uuid, $1, entry.account, entry.direction,
       entry.amount_cents, $2, $3, $4, $5
FROM unnest($6::text[], $7::text[], $8::bigint[]) AS entry (account, direction, amount_cents)
"""


async def record_ledger_entries(
    connection: asyncpg.Connection,
    *,
    entries: Sequence[LedgerEntry],
    currency: str,
    order_id: uuid.UUID,
    payment_id: uuid.UUID,
    refund_id: uuid.UUID | None = None,
) -> None:
    """One ledger transaction; the database refuses it at commit unless it balances."""
    await connection.execute(
        INSERT_LEDGER_ENTRIES,
        uuid.uuid4(),
        currency,
        order_id,
        payment_id,
        refund_id,
        [entry.account for entry in entries],
        [entry.direction for entry in entries],
        [entry.amount_cents for entry in entries],
    )


HAS_SALE_ENTRIES = """
SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE order_id = $1 AND refund_id IS NULL)
"""


async def has_sale_entries(connection: asyncpg.Connection, order_id: uuid.UUID) -> bool:
    return bool(await connection.fetchval(HAS_SALE_ENTRIES, order_id))
