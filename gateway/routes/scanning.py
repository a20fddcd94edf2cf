"""The gates over HTTP: a scan, the offline manifest, and the upload of scans made offline.

Scanning is for the venue staff, managers and admins of the event's tenant; another tenant's event
does not exist for them. What the code alone decides (malformed, another event's ticket) is
decided here; everything else in one transaction per scan, in persistence/admissions, which
admits a ticket once however many gates scan it at the same instant. An offline upload is applied
in the order its scans were made, so the earliest scan of a ticket is the one that admits.
"""

import base64
import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from engine.admission import ScanReason
from engine.limits import MILLISECONDS_PER_SECOND
from engine.ticket_qr import PAYLOAD_VERSION, read_qr
from gateway.auth import Principal, Role
from gateway.cursors import decode_ticket_id, encode_ticket_id, page_limit
from gateway.exchange import (
    answer_once,
    authenticate,
    decode_body,
    invalid,
    json_response,
    read_body,
)
from gateway.routes.venue import tenant_event
from gateway.schemas import format_moment
from gateway.state import gateway_state
from gateway.ticket_schemas import (
    ManifestTicketView,
    OfflineScansBody,
    OfflineScansView,
    OfflineScanView,
    ScanBody,
    ScanManifestView,
    ScanView,
)
from persistence.admissions import ScanRecord, ScanRequest, record_scan
from persistence.event_details import EventDetails
from persistence.located_ids import event_number_of
from persistence.scan_manifest import load_manifest_page
from persistence.tenancy import tenant_transaction

router = APIRouter()
GATE_ROLES = (Role.VENUE_STAFF, Role.VENUE_MANAGER, Role.ADMIN)
SCAN_DECODER = msgspec.json.Decoder(ScanBody)
OFFLINE_SCANS_DECODER = msgspec.json.Decoder(OfflineScansBody)
# How far ahead of the gateway's clock a gate's clock may be when it says when it scanned.
SCANNED_AT_AHEAD_MAX_MS = limits.QR_STEP_MS * limits.QR_CLOCK_SKEW_STEPS


def scan_request(
    details: EventDetails,
    principal: Principal,
    *,
    payload: str,
    device_id: str,
    scanned_at_ms: int,
    offline: bool,
) -> ScanRequest:
    """The scan, with its refusal already set when the code alone decides it."""
    claims = read_qr(payload)
    ticket_id = None if claims is None else uuid.UUID(claims.ticket_id)
    refusal = None
    if ticket_id is None:
        refusal = ScanReason.MALFORMED
    elif event_number_of(ticket_id) is None:
        refusal = ScanReason.UNKNOWN_TICKET
        ticket_id = None
    elif event_number_of(ticket_id) != details.location.event_number:
        refusal = ScanReason.WRONG_EVENT
        ticket_id = None
    return ScanRequest(
        event_id=details.location.event_id,
        ticket_id=ticket_id,
        payload=claims,
        device_id=device_id,
        scanned_by=principal.caller,
        scanned_at_ms=scanned_at_ms,
        offline=offline,
        refusal=refusal,
    )


async def scan_once(request: Request, details: EventDetails, scan: ScanRequest) -> ScanRecord:
    async with tenant_transaction(
        gateway_state(request).database_pool, details.location.tenant_id
    ) as connection:
        return await record_scan(connection, scan)


def optional_text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


@router.post("/v1/scan")
async def scan(request: Request) -> Response:
    principal = await authenticate(request, *GATE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body, SCAN_DECODER)
        details = await tenant_event(request, principal, body.event_id)
        record = await scan_once(
            request,
            details,
            scan_request(
                details,
                principal,
                payload=body.payload,
                device_id=body.device_id,
                scanned_at_ms=gateway_state(request).clock(),
                offline=False,
            ),
        )
        view = ScanView(
            result="admitted" if record.admitted else "rejected",
            reason=record.reason,
            ticket_id=optional_text(record.ticket_id),
            ticket_type_id=optional_text(record.ticket_type_id),
            seat=record.seat,
            scan_id=str(record.scan_id),
        )
        return json_response(view)

    return await answer_once(request, principal, raw_body, produce)


def qr_key(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")


@router.get("/v1/venue/events/{event_id}/scan-manifest")
async def read_scan_manifest(request: Request, event_id: str) -> Response:
    state = gateway_state(request)
    principal = await authenticate(request, *GATE_ROLES)
    details = await tenant_event(request, principal, event_id)
    limit = page_limit(
        request.query_params.get("limit"),
        default=limits.SCAN_MANIFEST_TICKETS_DEFAULT,
        maximum=limits.SCAN_MANIFEST_TICKETS_MAX,
    )
    cursor = request.query_params.get("cursor")
    after = None if cursor is None else decode_ticket_id(cursor)
    async with tenant_transaction(state.database_pool, details.location.tenant_id) as connection:
        entries = await load_manifest_page(
            connection, event_id=details.location.event_id, after_ticket_id=after, limit=limit + 1
        )
    page = entries[:limit]
    view = ScanManifestView(
        event_id=str(details.location.event_id),
        generated_at=format_moment(state.clock()),
        payload_version=PAYLOAD_VERSION,
        qr_step_s=limits.QR_STEP_MS // MILLISECONDS_PER_SECOND,
        qr_skew_steps=limits.QR_CLOCK_SKEW_STEPS,
        tickets=[
            ManifestTicketView(
                ticket_id=str(entry.ticket_id),
                ticket_type_id=str(entry.ticket_type_id),
                seat=entry.seat,
                status=entry.status,  # type: ignore[arg-type]
                qr_key=qr_key(entry.qr_secret),
            )
            for entry in page
        ],
        next_cursor=encode_ticket_id(page[-1].ticket_id) if len(entries) > limit else None,
    )
    return Response(
        content=msgspec.json.encode(view),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.post("/v1/venue/events/{event_id}/offline-scans")
async def upload_offline_scans(request: Request, event_id: str) -> Response:
    principal = await authenticate(request, *GATE_ROLES)
    raw_body = await read_body(request)

    async def produce() -> Response:
        details = await tenant_event(request, principal, event_id)
        body = decode_body(raw_body, OFFLINE_SCANS_DECODER)
        scanned_at_ms = [
            int(scan.scanned_at.timestamp() * MILLISECONDS_PER_SECOND) for scan in body.scans
        ]
        latest_ms = gateway_state(request).clock() + SCANNED_AT_AHEAD_MAX_MS
        if any(moment_ms > latest_ms for moment_ms in scanned_at_ms):
            raise invalid("a scan's scanned_at is in the future", field="scans")
        results: list[OfflineScanView | None] = [None] * len(body.scans)
        for index in sorted(range(len(body.scans)), key=lambda index: scanned_at_ms[index]):
            uploaded = body.scans[index]
            record = await scan_once(
                request,
                details,
                scan_request(
                    details,
                    principal,
                    payload=uploaded.payload,
                    device_id=body.device_id,
                    scanned_at_ms=scanned_at_ms[index],
                    offline=True,
                ),
            )
            results[index] = OfflineScanView(
                payload=uploaded.payload,
                scanned_at=format_moment(scanned_at_ms[index]),
                result="admitted" if record.admitted else "rejected",
                reason=record.reason,
                ticket_id=optional_text(record.ticket_id),
            )
        views = [result for result in results if result is not None]
        admitted = sum(view.result == "admitted" for view in views)
        return json_response(
            OfflineScansView(
                event_id=str(details.location.event_id),
                admitted=admitted,
                rejected=len(views) - admitted,
                results=views,
            )
        )

    return await answer_once(request, principal, raw_body, produce)
