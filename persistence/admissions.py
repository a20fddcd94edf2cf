"""Scans at the gates, decided and recorded in the event's tenant transaction: one admission per
ticket and zone entry, however many gates scan its code at the same instant.

The code was read and verified before the transaction (services/gate_scans.py); what could be
decided from it alone comes here as `refusal` and is only recorded. Otherwise `record_scan` locks
the ticket's row before it reads anything of the ticket, so two scans of one ticket take turns:
the second reads the passage of the first. The ticket's presence in each zone is what its
admitted scans say (`presence_after`), and the decision is the engine's (`decide_entry`) under
the event's entry policy, read in the same transaction; this module only locks, reads and
writes. Migration 0029's exclusion constraint says again, in the table of scans, that each entry
of a ticket to a zone is admitted once. Every scan is recorded, whatever its result; a code that
names no ticket of the tenant is recorded without one.
"""

import uuid

import asyncpg
import msgspec

from engine.admission import ScanReason
from engine.entry.decision import GateScan, Passage, decide_entry
from engine.entry.policy import EntryPolicy
from engine.entry.presence import (
    Direction,
    RecordedPassage,
    ZonePresence,
    presence_after,
    presence_zone,
)
from engine.ids import ZoneId
from engine.ticket_qr import QrVerdict
from engine.tickets import TicketStatus
from persistence.entry_policies import entry_policy_from_json


class ScanRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One scan of a code already verified as the ticket's. `refusal` is set when the answer is
    known without the ticket's row (unreadable, forged, another event's); `ticket_id` is then the
    ticket the code named when it exists, or None. `zone` is the gate's (None at the main
    entrance)."""

    event_id: uuid.UUID
    ticket_id: uuid.UUID | None
    device_id: str
    scanned_by: str
    scanned_at_ms: int
    offline: bool
    refusal: ScanReason | None = None
    zone: ZoneId | None = None
    direction: Direction = Direction.IN


class ScanRecord(msgspec.Struct, frozen=True, kw_only=True):
    scan_id: uuid.UUID
    admitted: bool
    reason: ScanReason | None
    ticket_id: uuid.UUID | None
    ticket_type_id: uuid.UUID | None
    seat: str | None
    zone: ZoneId | None = None
    direction: Direction = Direction.IN


class LockedTicket(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket's row, locked, with what its scans are decided by: its type's zone and its
    event's entry policy."""

    ticket_id: uuid.UUID
    event_id: uuid.UUID
    status: TicketStatus
    ticket_type_id: uuid.UUID
    seat: str | None
    issued_at_ms: int
    zone: ZoneId | None
    policy: EntryPolicy


# The issue rounded up to the millisecond, so a check-in is never recorded before it.
LOCK_TICKET = """
SELECT tickets.id, tickets.event_id, tickets.status, tickets.ticket_type_id, seats.label AS seat,
       ceil(extract(epoch FROM tickets.issued_at) * 1000)::bigint AS issued_at_ms,
       ticket_types.zone, events.entry::text AS entry
FROM tickets
JOIN ticket_types ON ticket_types.id = tickets.ticket_type_id
JOIN events ON events.id = tickets.event_id
LEFT JOIN seats ON seats.id = tickets.seat_id
WHERE tickets.id = $1
FOR UPDATE OF tickets
"""


async def lock_ticket(connection: asyncpg.Connection, ticket_id: uuid.UUID) -> LockedTicket | None:
    row = await connection.fetchrow(LOCK_TICKET, ticket_id)
    if row is None:
        return None
    return LockedTicket(
        ticket_id=row["id"],
        event_id=row["event_id"],
        status=TicketStatus(row["status"]),
        ticket_type_id=row["ticket_type_id"],
        seat=row["seat"],
        issued_at_ms=row["issued_at_ms"],
        zone=row["zone"],
        policy=entry_policy_from_json(row["entry"]),
    )


def ticket_refusal(
    ticket: LockedTicket | None, *, event_id: uuid.UUID, scanned_at_ms: int
) -> ScanReason | None:
    """Why the ticket's row refuses the scan before any entry rule, or None."""
    if ticket is None:
        return ScanReason.UNKNOWN_TICKET
    if ticket.event_id != event_id:
        return ScanReason.WRONG_EVENT
    if scanned_at_ms < ticket.issued_at_ms:
        return ScanReason.BEFORE_TICKET_ISSUED
    return None


SELECT_PASSAGES = """
SELECT zone, direction, entry_number,
       (extract(epoch FROM scanned_at) * 1000)::bigint AS scanned_at_ms
FROM ticket_scans
WHERE ticket_id = $1 AND result = 'admitted'
  AND ($2::bigint IS NULL
       OR scanned_at < timestamptz 'epoch' + $2::bigint * interval '1 millisecond')
ORDER BY scanned_at, id
"""


async def load_presence(
    connection: asyncpg.Connection,
    ticket_id: uuid.UUID,
    *,
    before_ms: int | None = None,
) -> dict[ZoneId, ZonePresence]:
    """The locked ticket's presence by zone, from its admitted scans made before `before_ms`
    (all of them when None)."""
    rows = await connection.fetch(SELECT_PASSAGES, ticket_id, before_ms)
    return presence_after(
        RecordedPassage(
            zone=row["zone"],
            direction=Direction(row["direction"]),
            entry_number=row["entry_number"],
            scanned_at_ms=row["scanned_at_ms"],
        )
        for row in rows
    )


CHECK_IN = """
UPDATE tickets
SET status = 'checked_in',
    checked_in_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond',
    updated_at = now()
WHERE id = $1
"""


async def check_in(connection: asyncpg.Connection, ticket_id: uuid.UUID, at_ms: int) -> None:
    """The locked ticket checked in at its earliest admission."""
    await connection.execute(CHECK_IN, ticket_id, at_ms)


INSERT_SCAN = """
INSERT INTO ticket_scans (id, tenant_id, event_id, ticket_id, device_id, scanned_by, result,
                          reason, offline, scanned_at, zone, direction, entry_number)
VALUES (coalesce($1, gen_random_uuid()), current_setting('app.current_tenant_id')::uuid, $2, $3,
        $4, $5, $6, $7, $8, timestamptz 'epoch' + $9::bigint * interval '1 millisecond', $10,
        $11, $12)
RETURNING id
"""


async def insert_scan(
    connection: asyncpg.Connection,
    request: ScanRequest,
    *,
    ticket_id: uuid.UUID | None,
    reason: ScanReason | None,
    entry_number: int | None,
    scan_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """The scan's row: admitted when `reason` is None, then making or ending `entry_number`."""
    assert (reason is None) == (entry_number is not None), "an admission names its entry"
    inserted: uuid.UUID = await connection.fetchval(
        INSERT_SCAN,
        scan_id,
        request.event_id,
        ticket_id,
        request.device_id,
        request.scanned_by,
        "admitted" if reason is None else "rejected",
        None if reason is None else reason.value,
        request.offline,
        request.scanned_at_ms,
        presence_zone(request.zone),
        request.direction.value,
        entry_number,
    )
    return inserted


async def record_scan(connection: asyncpg.Connection, request: ScanRequest) -> ScanRecord:
    """Decide the scan, move the ticket through the gate when it is admitted, and record it."""
    ticket = None
    decision: Passage | ScanReason
    if request.refusal is not None:
        decision = request.refusal
    else:
        assert request.ticket_id is not None, "a scan to decide names its ticket"
        ticket = await lock_ticket(connection, request.ticket_id)
        decision = await _decide(connection, request, ticket)
    admitted = isinstance(decision, Passage)
    reason = None if isinstance(decision, Passage) else decision
    scan_id = await insert_scan(
        connection,
        request,
        ticket_id=request.ticket_id if ticket is None else ticket.ticket_id,
        reason=reason,
        entry_number=decision.presence.entries if isinstance(decision, Passage) else None,
    )
    if isinstance(decision, Passage) and decision.moved is not None and ticket is not None:
        await check_in(connection, ticket.ticket_id, request.scanned_at_ms)
    return ScanRecord(
        scan_id=scan_id,
        admitted=admitted,
        reason=reason,
        ticket_id=request.ticket_id if ticket is None else ticket.ticket_id,
        ticket_type_id=None if ticket is None else ticket.ticket_type_id,
        seat=None if ticket is None else ticket.seat,
        zone=request.zone,
        direction=request.direction,
    )


async def _decide(
    connection: asyncpg.Connection, request: ScanRequest, ticket: LockedTicket | None
) -> Passage | ScanReason:
    refusal = ticket_refusal(ticket, event_id=request.event_id, scanned_at_ms=request.scanned_at_ms)
    if refusal is not None or ticket is None:
        return refusal or ScanReason.UNKNOWN_TICKET
    return decide_entry(
        verdict=QrVerdict.GENUINE,
        status=ticket.status,
        policy=ticket.policy,
        ticket_zone=ticket.zone,
        presence=await load_presence(connection, ticket.ticket_id),
        scan=GateScan(
            zone=request.zone, direction=request.direction, scanned_at_ms=request.scanned_at_ms
        ),
    )
