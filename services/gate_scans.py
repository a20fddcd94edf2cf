"""A scan at a gate, live or uploaded after the fact: the code read and verified before the
scan's transaction, then decided and recorded in it (persistence/admissions.py).

Verifying needs only the ticket's public key, which never changes, so a gateway keeps the keys it
has read in a bounded least-recently-used cache and a busy gate costs one transaction per scan.
What the code alone decides (unreadable, another event's, unknown, forged, stale, an upload made
outside the door window or after its upload) is recorded as a refusal without touching the
ticket; only a genuine code reaches the ticket's locked row. An offline upload is reconciled
ticket by ticket with what the gates recorded (persistence/scan_reconcile.py).
"""

import collections
import uuid
from collections.abc import Sequence

import asyncpg
import msgspec

from engine import limits
from engine.admission import (
    UNREADABLE_REFUSALS,
    ScanReason,
    door_window,
    uploaded_scan_refusal,
    verdict_refusal,
)
from engine.entry.presence import Direction
from engine.ids import ZoneId
from engine.ticket_qr import Unreadable, read_qr
from persistence.admissions import ScanRecord, ScanRequest, record_scan
from persistence.event_details import EventDetails
from persistence.located_ids import event_number_of
from persistence.scan_reconcile import ScanConflict, reconcile_ticket
from persistence.tenancy import tenant_transaction
from persistence.ticket_keys import load_public_keys
from services.ticket_codes import verify_code


class PublicKeyCache:
    """Tickets' public code keys, the most recently used `capacity` of them."""

    def __init__(self, capacity: int = limits.CODE_PUBLIC_KEYS_CACHED_MAX) -> None:
        assert capacity > 0
        self._capacity = capacity
        self._keys: collections.OrderedDict[uuid.UUID, bytes] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, ticket_id: uuid.UUID) -> bytes | None:
        key = self._keys.get(ticket_id)
        if key is not None:
            self._keys.move_to_end(ticket_id)
        return key

    def put(self, ticket_id: uuid.UUID, public_key: bytes) -> None:
        self._keys[ticket_id] = public_key
        self._keys.move_to_end(ticket_id)
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)


class GateScan(msgspec.Struct, frozen=True, kw_only=True):
    """One code as a gate read it. `uploaded_at_ms` is set for a scan made offline and uploaded
    then; `scanned_at_ms` is the gate's moment for it, or the server's for a live scan."""

    payload: str
    scanned_at_ms: int
    device_id: str
    scanned_by: str
    uploaded_at_ms: int | None = None
    zone: ZoneId | None = None
    direction: Direction = Direction.IN


class Verified(msgspec.Struct, frozen=True, kw_only=True):
    """What the code alone says: the ticket it names (when it exists) and any refusal."""

    ticket_id: uuid.UUID | None
    refusal: ScanReason | None


async def public_key(
    pool: asyncpg.Pool, keys: PublicKeyCache, details: EventDetails, ticket_id: uuid.UUID
) -> bytes | None:
    cached = keys.get(ticket_id)
    if cached is not None:
        return cached
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        found = await load_public_keys(connection, [ticket_id])
    key = found.get(ticket_id)
    if key is not None:
        keys.put(ticket_id, key)
    return key


async def verify_scan(
    pool: asyncpg.Pool, keys: PublicKeyCache, details: EventDetails, scan: GateScan
) -> Verified:
    claims = read_qr(scan.payload)
    if isinstance(claims, Unreadable):
        return Verified(ticket_id=None, refusal=UNREADABLE_REFUSALS[claims])
    ticket_id = uuid.UUID(claims.ticket_id)
    event_number = event_number_of(ticket_id)
    if event_number is None:
        return Verified(ticket_id=None, refusal=ScanReason.UNKNOWN_TICKET)
    if event_number != details.location.event_number:
        return Verified(ticket_id=None, refusal=ScanReason.WRONG_EVENT)
    key = await public_key(pool, keys, details, ticket_id)
    if key is None:
        return Verified(ticket_id=None, refusal=ScanReason.UNKNOWN_TICKET)
    uploaded = scan.uploaded_at_ms is not None
    if scan.uploaded_at_ms is not None:
        window = door_window(
            sale_opens_at_ms=details.opens_at_ms, event_ends_at_ms=details.ends_at_ms
        )
        refusal = uploaded_scan_refusal(
            scanned_at_ms=scan.scanned_at_ms, uploaded_at_ms=scan.uploaded_at_ms, window=window
        )
        if refusal is not None:
            return Verified(ticket_id=ticket_id, refusal=refusal)
    verdict = verify_code(public_key=key, payload=claims, now_ms=scan.scanned_at_ms)
    return Verified(ticket_id=ticket_id, refusal=verdict_refusal(verdict, uploaded=uploaded))


def scan_request(details: EventDetails, scan: GateScan, verified: Verified) -> ScanRequest:
    return ScanRequest(
        event_id=details.location.event_id,
        ticket_id=verified.ticket_id,
        device_id=scan.device_id,
        scanned_by=scan.scanned_by,
        scanned_at_ms=scan.scanned_at_ms,
        offline=scan.uploaded_at_ms is not None,
        refusal=verified.refusal,
        zone=scan.zone,
        direction=scan.direction,
    )


async def scan_code(
    pool: asyncpg.Pool, keys: PublicKeyCache, details: EventDetails, scan: GateScan
) -> ScanRecord:
    """Verify the code, then decide and record the scan in the event's tenant transaction."""
    verified = await verify_scan(pool, keys, details, scan)
    request = scan_request(details, scan, verified)
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        return await record_scan(connection, request)


class ReconciledUpload(msgspec.Struct, frozen=True, kw_only=True):
    """One record per uploaded scan, in the order sent, and the recorded scans it changed."""

    records: tuple[ScanRecord, ...]
    conflicts: tuple[ScanConflict, ...]


async def reconcile_upload(
    pool: asyncpg.Pool, keys: PublicKeyCache, details: EventDetails, scans: Sequence[GateScan]
) -> ReconciledUpload:
    """Verify every code; record those the code alone refuses; then reconcile each ticket the
    genuine ones name, in a transaction of its own, in the order of the tickets' ids."""
    requests = [
        scan_request(details, scan, await verify_scan(pool, keys, details, scan)) for scan in scans
    ]
    records: dict[int, ScanRecord] = {}
    by_ticket: dict[uuid.UUID, list[int]] = collections.defaultdict(list)
    tenant_id = details.location.tenant_id
    for index, request in enumerate(requests):
        if request.refusal is None and request.ticket_id is not None:
            by_ticket[request.ticket_id].append(index)
            continue
        async with tenant_transaction(pool, tenant_id) as connection:
            records[index] = await record_scan(connection, request)
    conflicts: list[ScanConflict] = []
    for ticket_id in sorted(by_ticket):
        indexes = by_ticket[ticket_id]
        async with tenant_transaction(pool, tenant_id) as connection:
            reconciled = await reconcile_ticket(
                connection, ticket_id=ticket_id, uploaded=[requests[index] for index in indexes]
            )
        records.update(zip(indexes, reconciled.records, strict=True))
        conflicts.extend(reconciled.conflicts)
    return ReconciledUpload(
        records=tuple(records[index] for index in range(len(requests))),
        conflicts=tuple(conflicts),
    )
