"""An offline upload reconciled with what the gates already recorded, one ticket at a time under
its row lock: the ticket's scans from its earliest uploaded one on are replayed with the uploaded
ones through the engine's `replay_scans`, so the earliest scan wins however late its gate
reported it, and every scan keeps the result the replay gives it.

Scans made before the earliest uploaded one stay as they are and give the presence the replay
starts from. A recorded scan whose result the replay changes is a conflict, returned for the
venue to see. An uploaded scan the ticket already has (same device, moment, zone and direction,
made offline) is that scan, not another: an upload sent twice records nothing new. A check-in is
never undone: the ticket's `checked_in_at` becomes its earliest admission. The renumbered
passages satisfy migration 0029's constraint at commit, which this transaction defers to.
"""

import uuid

import asyncpg
import msgspec

from engine import limits
from engine.admission import ScanReason
from engine.entry.decision import REPLAYED_REASONS, GateScan
from engine.entry.presence import Direction, ZonePresence, presence_zone
from engine.entry.replay import RecordedScan, ReplayedScan, replay_scans, status_before_scans
from engine.ids import ZoneId
from engine.ticket_qr import QrVerdict
from engine.tickets import TicketStatus
from persistence.admissions import (
    LockedTicket,
    ScanRecord,
    ScanRequest,
    check_in,
    insert_scan,
    load_presence,
    lock_ticket,
    ticket_refusal,
)

ADMITTED = "admitted"


class ScanConflict(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded scan whose result changed: `told` is what it had, `now` what it has
    (`admitted` or the reason it is refused)."""

    scan_id: uuid.UUID
    ticket_id: uuid.UUID
    scanned_at_ms: int
    told: str
    now: str


class ReconciledTicket(msgspec.Struct, frozen=True, kw_only=True):
    """One record per uploaded scan, in the order given, and the conflicts the upload made."""

    records: tuple[ScanRecord, ...]
    conflicts: tuple[ScanConflict, ...]


class TooManyScans(Exception):
    """The ticket has more scans to replay than ENTRY_SCANS_REPLAYED_PER_TICKET_MAX."""

    def __init__(self, ticket_id: uuid.UUID) -> None:
        super().__init__(f"ticket {ticket_id} has too many scans to replay")
        self.ticket_id = ticket_id


SELECT_SCANS_FROM = """
SELECT id, device_id, zone, direction, result, reason, offline, entry_number,
       (extract(epoch FROM scanned_at) * 1000)::bigint AS scanned_at_ms
FROM ticket_scans
WHERE ticket_id = $1 AND scanned_at >= timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
  AND (result = 'admitted' OR reason = ANY($3::text[]))
ORDER BY scanned_at, id
LIMIT $4
"""

UPDATE_RESULT = """
UPDATE ticket_scans
SET result = changed.result, reason = changed.reason, entry_number = changed.entry_number
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::integer[])
     AS changed (id, result, reason, entry_number)
WHERE ticket_scans.id = changed.id
"""


def outcome(reason: ScanReason | None) -> str:
    return ADMITTED if reason is None else reason.value


def _recorded(row: asyncpg.Record) -> RecordedScan:
    zone: ZoneId = row["zone"]
    return RecordedScan(
        scan_id=str(row["id"]),
        device_id=row["device_id"],
        verdict=QrVerdict.GENUINE,
        scan=GateScan(
            zone=zone or None,
            direction=Direction(row["direction"]),
            scanned_at_ms=row["scanned_at_ms"],
        ),
        told=None if row["reason"] is None else ScanReason(row["reason"]),
    )


def _same_scan(row: asyncpg.Record, request: ScanRequest) -> bool:
    return bool(
        row["offline"]
        and row["device_id"] == request.device_id
        and row["scanned_at_ms"] == request.scanned_at_ms
        and row["zone"] == presence_zone(request.zone)
        and row["direction"] == request.direction.value
    )


DEFER_PASSAGE_CHECK = "SET CONSTRAINTS ticket_scans_one_passage_per_entry DEFERRED"


async def reconcile_ticket(
    connection: asyncpg.Connection, *, ticket_id: uuid.UUID, uploaded: list[ScanRequest]
) -> ReconciledTicket:
    """Replay the ticket's scans with the uploaded ones, and keep what the replay says."""
    ticket = await lock_ticket(connection, ticket_id)
    final = [
        ticket_refusal(ticket, event_id=request.event_id, scanned_at_ms=request.scanned_at_ms)
        for request in uploaded
    ]
    replayed = [index for index, refusal in enumerate(final) if refusal is None]
    if ticket is None or not replayed:
        records = [
            await _record_refusal(connection, request, final[index], ticket)
            for index, request in enumerate(uploaded)
        ]
        return ReconciledTicket(records=tuple(records), conflicts=())
    await connection.execute(DEFER_PASSAGE_CHECK)
    earliest_ms = min(uploaded[index].scanned_at_ms for index in replayed)
    rows = await connection.fetch(
        SELECT_SCANS_FROM,
        ticket.ticket_id,
        earliest_ms,
        sorted(reason.value for reason in REPLAYED_REASONS),
        limits.ENTRY_SCANS_REPLAYED_PER_TICKET_MAX + 1,
    )
    if len(rows) + len(replayed) > limits.ENTRY_SCANS_REPLAYED_PER_TICKET_MAX:
        raise TooManyScans(ticket.ticket_id)
    scan_ids = {index: _scan_id(rows, uploaded[index]) for index in replayed}
    recorded_ids = {row["id"] for row in rows}
    new = {index: scan_ids[index] for index in replayed if scan_ids[index] not in recorded_ids}
    scans = [_recorded(row) for row in rows] + [
        _uploaded(scan_id, uploaded[index]) for index, scan_id in new.items()
    ]
    presence = await load_presence(connection, ticket.ticket_id, before_ms=earliest_ms)
    replay = replay_scans(
        status=_status_before(ticket, rows, presence),
        policy=ticket.policy,
        ticket_zone=ticket.zone,
        scans=scans,
        presence_before=presence,
    )
    by_id = {uuid.UUID(scan.recorded.scan_id): scan for scan in replay.scans}
    conflicts = await _keep_results(connection, ticket, rows, by_id)
    records = []
    for index, request in enumerate(uploaded):
        if index not in scan_ids:
            records.append(await _record_refusal(connection, request, final[index], ticket))
            continue
        scan = by_id[scan_ids[index]]
        if index in new:
            await insert_scan(
                connection,
                request,
                ticket_id=ticket.ticket_id,
                reason=scan.reason,
                entry_number=None if scan.presence is None else scan.presence.entries,
                scan_id=new[index],
            )
        records.append(_record(scan_ids[index], request, scan.reason, ticket))
    if replay.checked_in_at_ms is not None:
        await check_in(connection, ticket.ticket_id, replay.checked_in_at_ms)
    return ReconciledTicket(records=tuple(records), conflicts=conflicts)


def _scan_id(rows: list[asyncpg.Record], request: ScanRequest) -> uuid.UUID:
    """The recorded scan the uploaded one is, or a new id for it."""
    known: uuid.UUID | None = next((row["id"] for row in rows if _same_scan(row, request)), None)
    return uuid.uuid4() if known is None else known


def _uploaded(scan_id: uuid.UUID, request: ScanRequest) -> RecordedScan:
    return RecordedScan(
        scan_id=str(scan_id),
        device_id=request.device_id,
        verdict=QrVerdict.GENUINE,
        scan=GateScan(
            zone=request.zone, direction=request.direction, scanned_at_ms=request.scanned_at_ms
        ),
        told=None,
    )


def _status_before(
    ticket: LockedTicket, rows: list[asyncpg.Record], presence: dict[ZoneId, ZonePresence]
) -> TicketStatus:
    """The status the replay starts from: checked in when scans before it admitted the ticket,
    or when nothing on record did (checked in before passages were kept); otherwise what it was
    before any scan."""
    admitted_in_replay = any(row["result"] == ADMITTED for row in rows)
    if ticket.status is TicketStatus.CHECKED_IN and (presence or not admitted_in_replay):
        return TicketStatus.CHECKED_IN
    return status_before_scans(ticket.status)


async def _keep_results(
    connection: asyncpg.Connection,
    ticket: LockedTicket,
    rows: list[asyncpg.Record],
    by_id: dict[uuid.UUID, ReplayedScan],
) -> tuple[ScanConflict, ...]:
    """Write each recorded scan's result where the replay changed it (its entry number too);
    the conflicts are those whose result changed."""
    changed = []
    conflicts = []
    for row in rows:
        scan = by_id[row["id"]]
        entry_number = None if scan.presence is None else scan.presence.entries
        told = ADMITTED if row["reason"] is None else row["reason"]
        now = outcome(scan.reason)
        if told != now or entry_number != row["entry_number"]:
            changed.append((row["id"], scan.reason, entry_number))
        if told != now:
            conflicts.append(
                ScanConflict(
                    scan_id=row["id"],
                    ticket_id=ticket.ticket_id,
                    scanned_at_ms=row["scanned_at_ms"],
                    told=told,
                    now=now,
                )
            )
    if changed:
        await connection.execute(
            UPDATE_RESULT,
            [scan_id for scan_id, _, _ in changed],
            [ADMITTED if reason is None else "rejected" for _, reason, _ in changed],
            [None if reason is None else reason.value for _, reason, _ in changed],
            [entry_number for _, _, entry_number in changed],
        )
    return tuple(conflicts)


def _record(
    scan_id: uuid.UUID, request: ScanRequest, reason: ScanReason | None, ticket: LockedTicket
) -> ScanRecord:
    return ScanRecord(
        scan_id=scan_id,
        admitted=reason is None,
        reason=reason,
        ticket_id=ticket.ticket_id,
        ticket_type_id=ticket.ticket_type_id,
        seat=ticket.seat,
        zone=request.zone,
        direction=request.direction,
    )


async def _record_refusal(
    connection: asyncpg.Connection,
    request: ScanRequest,
    reason: ScanReason | None,
    ticket: LockedTicket | None,
) -> ScanRecord:
    """An uploaded scan the ticket's row refuses before any entry rule, recorded as such."""
    assert reason is not None, "only a refused scan is recorded without its replay"
    ticket_id = request.ticket_id if ticket is None else ticket.ticket_id
    scan_id = await insert_scan(
        connection, request, ticket_id=ticket_id, reason=reason, entry_number=None
    )
    return ScanRecord(
        scan_id=scan_id,
        admitted=False,
        reason=reason,
        ticket_id=ticket_id,
        ticket_type_id=None if ticket is None else ticket.ticket_type_id,
        seat=None if ticket is None else ticket.seat,
        zone=request.zone,
        direction=request.direction,
    )
