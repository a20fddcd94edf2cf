"""The offline scan manifest of an event: what a gate that loses its connection needs to verify
codes alone, a page at a time in ticket id order.

It lists the event's current tickets (those a gate may meet: valid, locked or checked in) with
each one's public code key, so the gate can check a code's signature and step itself, and can
make none; a ticket that ended or changed hands is left out, and its code is then unknown to the
gate.
"""

import uuid

import asyncpg
import msgspec

from engine.tickets import TicketStatus
from persistence.ticket_keys import load_public_keys

MANIFEST_STATUSES = (
    TicketStatus.VALID,
    TicketStatus.LOCKED,
    TicketStatus.CHECKED_IN,
)


class ManifestEntry(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    ticket_type_id: uuid.UUID
    seat: str | None
    status: str
    public_key: bytes


SELECT_MANIFEST_PAGE = """
SELECT tickets.id, tickets.ticket_type_id, seats.label AS seat, tickets.status,
       tickets.code_public_key
FROM tickets LEFT JOIN seats ON seats.id = tickets.seat_id
WHERE tickets.event_id = $1
  AND tickets.status = ANY($2::text[])
  AND ($3::uuid IS NULL OR tickets.id > $3)
ORDER BY tickets.id
LIMIT $4
"""


async def load_manifest_page(
    connection: asyncpg.Connection,
    *,
    event_id: uuid.UUID,
    after_ticket_id: uuid.UUID | None,
    limit: int,
) -> list[ManifestEntry]:
    rows = await connection.fetch(
        SELECT_MANIFEST_PAGE, event_id, list(MANIFEST_STATUSES), after_ticket_id, limit
    )
    missing = [row["id"] for row in rows if row["code_public_key"] is None]
    derived = await load_public_keys(connection, missing) if missing else {}
    return [
        ManifestEntry(
            ticket_id=row["id"],
            ticket_type_id=row["ticket_type_id"],
            seat=row["seat"],
            status=row["status"],
            public_key=row["code_public_key"] or derived[row["id"]],
        )
        for row in rows
    ]
