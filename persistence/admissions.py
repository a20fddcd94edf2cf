"""Scans at the gates, decided and recorded in the event's tenant transaction: one admission per
ticket, however many gates scan its code at the same instant.

The code was read and verified before the transaction (services/gate_scans.py); what could be
decided from it alone comes here as `refusal` and is only recorded. Otherwise `record_scan` locks
the ticket's row before it reads its status, so two scans of one ticket take turns: the second
reads the check-in of the first and is turned away as already checked in. The partial unique index
of migration 0015 says the same again in the table of scans. The decision is the engine's
(`decide_scan`); this module only locks, reads and writes. Every scan is recorded, whatever its
result; a code that names no ticket of the tenant is recorded without one.
"""

import uuid

import asyncpg
import msgspec

from engine.admission import ScanReason, decide_scan
from engine.tickets import TicketMoved, TicketStatus


class ScanRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One scan of a code already verified as the ticket's. `refusal` is set when the answer is
    known without the ticket's row (unreadable, forged, another event's); `ticket_id` is then the
    ticket the code named when it exists, or None."""

    event_id: uuid.UUID
    ticket_id: uuid.UUID | None
    device_id: str
    scanned_by: str
    scanned_at_ms: int
    offline: bool
    refusal: ScanReason | None = None


class ScanRecord(msgspec.Struct, frozen=True, kw_only=True):
    scan_id: uuid.UUID
    admitted: bool
    reason: ScanReason | None
    ticket_id: uuid.UUID | None
    ticket_type_id: uuid.UUID | None
    seat: str | None


# The issue rounded up to the millisecond, so a check-in is never recorded before it.
LOCK_TICKET = """
SELECT tickets.id, tickets.event_id, tickets.status, tickets.ticket_type_id, seats.label AS seat,
       ceil(extract(epoch FROM tickets.issued_at) * 1000)::bigint AS issued_at_ms
FROM tickets LEFT JOIN seats ON seats.id = tickets.seat_id
WHERE tickets.id = $1
FOR UPDATE OF tickets
"""

CHECK_IN = """
UPDATE tickets
SET status = $2,
    checked_in_at = timestamptz 'epoch' + $3::bigint * interval '1 millisecond',
    updated_at = now()
WHERE id = $1 AND status = $4
RETURNING 1
"""

INSERT_SCAN = """
INSERT INTO ticket_scans (tenant_id, event_id, ticket_id, device_id, scanned_by, result, reason,
                          offline, scanned_at)
VALUES (current_setting('app.current_tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7,
        timestamptz 'epoch' + $8::bigint * interval '1 millisecond')
RETURNING id
"""


async def record_scan(connection: asyncpg.Connection, request: ScanRequest) -> ScanRecord:
    """Decide the scan, check the ticket in when it is admitted, and record the scan."""
    refusal = request.refusal
    row = None
    if refusal is None:
        assert request.ticket_id is not None, "a scan to decide names its ticket"
        row = await connection.fetchrow(LOCK_TICKET, request.ticket_id)
        refusal = await _check_in_or_refusal(connection, request, row)
    ticket_id = request.ticket_id if row is None else row["id"]
    scan_id = await connection.fetchval(
        INSERT_SCAN,
        request.event_id,
        ticket_id,
        request.device_id,
        request.scanned_by,
        "rejected" if refusal is not None else "admitted",
        None if refusal is None else refusal.value,
        request.offline,
        request.scanned_at_ms,
    )
    return ScanRecord(
        scan_id=scan_id,
        admitted=refusal is None,
        reason=refusal,
        ticket_id=ticket_id,
        ticket_type_id=None if row is None else row["ticket_type_id"],
        seat=None if row is None else row["seat"],
    )


async def _check_in_or_refusal(
    connection: asyncpg.Connection, request: ScanRequest, row: asyncpg.Record | None
) -> ScanReason | None:
    """Check the locked ticket in when the engine admits it; the reason it does not otherwise."""
    if row is None:
        return ScanReason.UNKNOWN_TICKET
    if row["event_id"] != request.event_id:
        return ScanReason.WRONG_EVENT
    decision = decide_scan(
        status=TicketStatus(row["status"]),
        scanned_at_ms=request.scanned_at_ms,
        issued_at_ms=row["issued_at_ms"],
    )
    if not isinstance(decision, TicketMoved):
        return decision
    checked_in = await connection.fetchval(
        CHECK_IN, request.ticket_id, decision.after, request.scanned_at_ms, decision.before
    )
    assert checked_in is not None, "the locked row still has the status just read"
    return None
