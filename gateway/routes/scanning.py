"""The gates over HTTP: a scan, the offline manifest, and the upload of scans made offline.

Scanning is for the venue staff, managers and admins of the event's tenant, and for the scanner
devices it registered (gateway/gate_callers.py); another tenant's event does not exist for them.
Each scan is verified and recorded by services/gate_scans.py, which admits a ticket once however
many gates scan it at the same instant, under the event's entry policy (zones, re-entry). An
offline upload is reconciled with the recorded scans of each ticket it names, in the order the
scans were made, so the earliest scan of a ticket is the one that admits and the recorded scans
whose result that changes are reported; a scan made outside the event's door window, after the
upload, before its ticket was issued, or with a code of another moment than it claims, is
rejected with its reason and changes nothing.
"""

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from engine.entry.policy import scan_zone_problem
from engine.limits import MILLISECONDS_PER_SECOND
from engine.ticket_qr import PAYLOAD_VERSION, encode_base64url
from gateway.cursors import decode_ticket_id, encode_ticket_id, page_limit
from gateway.errors import rejection_error
from gateway.exchange import answer_once, decode_body, invalid, json_response, read_body
from gateway.gate_callers import GateCaller, authenticate_gate, check_gate_zone, gate_event
from gateway.schemas import format_moment
from gateway.state import gateway_state
from gateway.ticket_schemas import (
    ManifestTicketView,
    OfflineScansBody,
    OfflineScansView,
    OfflineScanView,
    ScanBody,
    ScanConflictView,
    ScanManifestView,
    ScanView,
)
from persistence.admissions import ScanRecord
from persistence.event_details import EventDetails
from persistence.scan_manifest import load_manifest_page
from persistence.scan_reconcile import TooManyScans
from persistence.tenancy import tenant_transaction
from services.gate_scans import GateScan, reconcile_upload, scan_code

router = APIRouter()
SCAN_DECODER = msgspec.json.Decoder(ScanBody)
OFFLINE_SCANS_DECODER = msgspec.json.Decoder(OfflineScansBody)


async def scan_once(request: Request, details: EventDetails, scan: GateScan) -> ScanRecord:
    state = gateway_state(request)
    return await scan_code(state.database_pool, state.code_keys, details, scan)


def optional_text(value: object | None) -> str | None:
    return None if value is None else str(value)


@router.post("/v1/scan")
async def scan(request: Request) -> Response:
    caller = await authenticate_gate(request)
    raw_body = await read_body(request)

    async def produce() -> Response:
        body = decode_body(raw_body, SCAN_DECODER)
        details = await gate_event(request, caller, body.event_id)
        unknown_zone = scan_zone_problem(details.entry, body.zone)
        if unknown_zone is not None:
            raise rejection_error(unknown_zone)
        check_gate_zone(caller, details, body.zone)
        record = await scan_once(
            request,
            details,
            GateScan(
                payload=body.payload,
                scanned_at_ms=gateway_state(request).clock(),
                device_id=caller.device_id(body.device_id),
                scanned_by=caller.principal.caller,
                zone=body.zone,
                direction=body.direction,
            ),
        )
        view = ScanView(
            result="admitted" if record.admitted else "rejected",
            reason=record.reason,
            ticket_id=optional_text(record.ticket_id),
            ticket_type_id=optional_text(record.ticket_type_id),
            seat=record.seat,
            scan_id=str(record.scan_id),
            zone=record.zone,
            direction=record.direction,
        )
        return json_response(view)

    return await answer_once(request, caller.principal, raw_body, produce)


@router.get("/v1/venue/events/{event_id}/scan-manifest")
async def read_scan_manifest(request: Request, event_id: str) -> Response:
    state = gateway_state(request)
    caller = await authenticate_gate(request)
    details = await gate_event(request, caller, event_id)
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
                public_key=encode_base64url(entry.public_key),
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


async def apply_uploaded_scans(
    request: Request, caller: GateCaller, details: EventDetails, body: OfflineScansBody
) -> OfflineScansView:
    """Every scan reconciled with what the gates recorded; the results in the order sent, and
    the recorded scans whose result changed."""
    state = gateway_state(request)
    uploaded_at_ms = state.clock()
    for index, uploaded in enumerate(body.scans):
        check_gate_zone(caller, details, uploaded.zone, field=f"scans[{index}].zone")
    scans = [
        GateScan(
            payload=uploaded.payload,
            scanned_at_ms=int(uploaded.scanned_at.timestamp() * MILLISECONDS_PER_SECOND),
            device_id=caller.device_id(body.device_id),
            scanned_by=caller.principal.caller,
            uploaded_at_ms=uploaded_at_ms,
            zone=uploaded.zone,
            direction=uploaded.direction,
        )
        for uploaded in body.scans
    ]
    try:
        reconciled = await reconcile_upload(state.database_pool, state.code_keys, details, scans)
    except TooManyScans as error:
        raise invalid(
            f"ticket {error.ticket_id} has more than {limits.ENTRY_SCANS_REPLAYED_PER_TICKET_MAX} "
            "scans to replay from the earliest uploaded one",
            field="scans",
            ticket_id=str(error.ticket_id),
        ) from None
    views = [
        OfflineScanView(
            payload=scan.payload,
            scanned_at=format_moment(scan.scanned_at_ms),
            result="admitted" if record.admitted else "rejected",
            reason=record.reason,
            ticket_id=optional_text(record.ticket_id),
            zone=record.zone,
            direction=record.direction,
        )
        for scan, record in zip(scans, reconciled.records, strict=True)
    ]
    admitted = sum(view.result == "admitted" for view in views)
    return OfflineScansView(
        event_id=str(details.location.event_id),
        admitted=admitted,
        rejected=len(views) - admitted,
        results=views,
        conflicts=[
            ScanConflictView(
                scan_id=str(conflict.scan_id),
                ticket_id=str(conflict.ticket_id),
                scanned_at=format_moment(conflict.scanned_at_ms),
                told=conflict.told,
                now=conflict.now,
            )
            for conflict in reconciled.conflicts
        ],
    )


@router.post("/v1/venue/events/{event_id}/offline-scans")
async def upload_offline_scans(request: Request, event_id: str) -> Response:
    caller = await authenticate_gate(request)
    raw_body = await read_body(request)

    async def produce() -> Response:
        details = await gate_event(request, caller, event_id)
        body = decode_body(raw_body, OFFLINE_SCANS_DECODER)
        return json_response(await apply_uploaded_scans(request, caller, details, body))

    return await answer_once(request, caller.principal, raw_body, produce)
