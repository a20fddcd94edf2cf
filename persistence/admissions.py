"""Scans at the gates, decided and recorded in the event's tenant transaction: one admission per
ticket, however many gates scan its code at the same instant.

`record_scan` locks the ticket's row before it reads its status, so two scans of one ticket take
turns: the second reads the check-in of the first and is turned away as already checked in. The
partial unique index of migration 0015 says the same again in the table of scans. Every scan is
recorded, whatever its result; a code that names no ticket of the tenant is recorded without one.
"""

import uuid

import asyncpg
import msgspec

from engine.admission import ScanReason, decide_scan
from engine.ticket_qr import QrPayload, verify_qr
from engine.tickets import TicketMoved, TicketStatus


class ScanRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One scan. `refusal` is set when the gateway already knows the answer from the code alone
    (malformed, another event's); `payload` is then None or unverified."""

    event_id: uuid.UUID
    ticket_id: uuid.UUID | None
    payload: QrPayload | None
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


LOCK_TICKET = """
SELECT tickets.id, tickets.event_id, tickets.status, tickets.qr_secret, tickets.ticket_type_id,
       seats.label AS seat
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
        assert request.ticket_id is not None and request.payload is not None
        row = await connection.fetchrow(LOCK_TICKET, request.ticket_id)
        if row is None:
            refusal = ScanReason.UNKNOWN_TICKET
        elif row["event_id"] != request.event_id:
            refusal = ScanReason.WRONG_EVENT
        else:
            verdict = verify_qr(
                secret=row["qr_secret"], payload=request.payload, now_ms=request.scanned_at_ms
            )
            decision = decide_scan(verdict=verdict, status=TicketStatus(row["status"]))
            if isinstance(decision, TicketMoved):
                checked_in = await connection.fetchval(
                    CHECK_IN,
                    request.ticket_id,
                    decision.after,
                    request.scanned_at_ms,
                    decision.before,
                )
                assert checked_in is not None, "the locked row still has the status just read"
            else:
                refusal = decision
    ticket_id = None if row is None else row["id"]
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
