"""The operations of the on-sale API after the sale, one row each: a fan's tickets, their codes
and transfers, the gates, the venue's ticket tools and its failed work (gateway/operations.py
says what a row is).
"""

from engine import limits
from engine.tickets import TicketStatus
from gateway.device_schemas import DeviceBody, DeviceList, RegisteredDeviceView
from gateway.errors import ErrorCode
from gateway.operations import CURSOR, VENUE, Operation, QueryParameter
from gateway.order_schemas import TicketView
from gateway.ticket_schemas import (
    ClaimView,
    CodeKeyView,
    CompBody,
    CompView,
    FailedWorkList,
    FailedWorkView,
    LockBody,
    NoteBody,
    OfflineScansBody,
    OfflineScansView,
    QrView,
    ScanBody,
    ScanManifestView,
    ScanView,
    TicketList,
    TransferBody,
)

TICKET_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="get",
        path="/v1/me/tickets",
        summary="Your tickets, newest first, a page at a time (given-away ones by status only)",
        answer_status=200,
        answer=TicketList,
        errors=(ErrorCode.VALIDATION_ERROR,),
        query=(
            QueryParameter(
                name="event_id",
                schema={"type": "string", "format": "uuid"},
                description="Only this event's tickets.",
            ),
            QueryParameter(
                name="status",
                schema={"type": "string", "enum": [status.value for status in TicketStatus]},
                description="Only tickets in this status.",
            ),
            QueryParameter(
                name="limit",
                schema={
                    "type": "integer",
                    "minimum": 1,
                    "maximum": limits.TICKETS_LISTED_MAX,
                    "default": limits.TICKETS_LISTED_DEFAULT,
                },
                description="Tickets per page.",
            ),
            CURSOR,
        ),
    ),
    Operation(
        method="get",
        path="/v1/tickets/{ticket_id}",
        summary="Your ticket",
        answer_status=200,
        answer=TicketView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="get",
        path="/v1/tickets/{ticket_id}/qr",
        summary=f"Your ticket's code for now, signed with its own key; it rotates every "
        f"{limits.QR_STEP_MS // limits.MILLISECONDS_PER_SECOND} s",
        answer_status=200,
        answer=QrView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.TICKET_STATUS_CONFLICT),
    ),
    Operation(
        method="get",
        path="/v1/tickets/{ticket_id}/code-key",
        summary="Your ticket's signing key, so your app shows valid codes all evening with no "
        "network; keep it on the device",
        answer_status=200,
        answer=CodeKeyView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.TICKET_STATUS_CONFLICT),
    ),
    Operation(
        method="post",
        path="/v1/tickets/{ticket_id}/transfer",
        summary="Give your ticket to another fan: to a user id, the answer is their new ticket "
        "and its NFT moves to their wallet on chain; to an email address, the answer (202) is "
        "the claim emailed to them, and the ticket moves when they accept it",
        answer_status=200,
        answer=TicketView,
        also_answers=((202, ClaimView),),
        body=TransferBody,
        errors=(
            ErrorCode.NOT_FOUND,
            ErrorCode.TRANSFER_NOT_ALLOWED,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/scan",
        summary="Scan a ticket's code at a gate, as staff or as a registered scanner device: "
        "admitted once, else rejected with a reason",
        answer_status=200,
        answer=ScanView,
        body=ScanBody,
        errors=(*VENUE, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/scan-manifest",
        summary="The event's current tickets with their public code keys, for gates that lose "
        "their connection",
        answer_status=200,
        answer=ScanManifestView,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR),
        query=(
            QueryParameter(
                name="limit",
                schema={
                    "type": "integer",
                    "minimum": 1,
                    "maximum": limits.SCAN_MANIFEST_TICKETS_MAX,
                    "default": limits.SCAN_MANIFEST_TICKETS_DEFAULT,
                },
                description="Tickets per page.",
            ),
            CURSOR,
        ),
    ),
    Operation(
        method="post",
        path="/v1/venue/events/{event_id}/offline-scans",
        summary="Upload the scans a gate made offline; duplicates are resolved by scan time, and "
        "a scan outside the door window, after the upload or before its ticket's issue is "
        "rejected",
        answer_status=200,
        answer=OfflineScansView,
        body=OfflineScansBody,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/venue/devices",
        summary="Register a scanner device; its token is shown this once",
        answer_status=201,
        answer=RegisteredDeviceView,
        body=DeviceBody,
        errors=(
            ErrorCode.FORBIDDEN,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/devices",
        summary="The venue's scanner devices, with when each was last seen and revoked",
        answer_status=200,
        answer=DeviceList,
        errors=(ErrorCode.FORBIDDEN,),
    ),
    Operation(
        method="delete",
        path="/v1/venue/devices/{device_id}",
        summary="Revoke a scanner device at once: its token scans no more",
        answer_status=204,
        answer=None,
        errors=VENUE,
    ),
    Operation(
        method="post",
        path="/v1/venue/events/{event_id}/comps",
        summary="Give tickets away with a reason, to a fan or to whoever claims them from the "
        "link emailed to `to_email`; they count as sold, at no revenue",
        answer_status=201,
        answer=CompView,
        body=CompBody,
        errors=(
            *VENUE,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.SOLD_OUT,
            ErrorCode.SEAT_UNAVAILABLE,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/tickets/{ticket_id}",
        summary="A ticket of one of the tenant's events",
        answer_status=200,
        answer=TicketView,
        errors=VENUE,
    ),
    Operation(
        method="post",
        path="/v1/venue/tickets/{ticket_id}/lock",
        summary="Lock a ticket for fraud, a chargeback, a dispute or a legal hold: it neither "
        "scans nor transfers",
        answer_status=200,
        answer=TicketView,
        body=LockBody,
        errors=(*VENUE, ErrorCode.TICKET_STATUS_CONFLICT, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/venue/tickets/{ticket_id}/unlock",
        summary="Unlock a locked ticket; it is valid again",
        answer_status=200,
        answer=TicketView,
        body=NoteBody,
        errors=(*VENUE, ErrorCode.TICKET_STATUS_CONFLICT, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/venue/tickets/{ticket_id}/reissue",
        summary="Replace a lost ticket: the old one is revoked, its owner gets a new one with a "
        "new code on the same seat and order",
        answer_status=201,
        answer=TicketView,
        body=NoteBody,
        errors=(*VENUE, ErrorCode.TICKET_STATUS_CONFLICT, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/failed-work",
        summary="The event's mints, NFT moves and notices that ran out of their quick retries; "
        "each is retried on a long backoff until it lands",
        answer_status=200,
        answer=FailedWorkList,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR),
        query=(
            QueryParameter(
                name="limit",
                schema={
                    "type": "integer",
                    "minimum": 1,
                    "maximum": limits.FAILED_WORK_LISTED_MAX,
                    "default": limits.FAILED_WORK_LISTED_DEFAULT,
                },
                description="Items listed.",
            ),
        ),
    ),
    Operation(
        method="post",
        path="/v1/venue/failed-work/{work_id}/retry",
        summary="Retry one piece of failed work at once (idempotent)",
        answer_status=202,
        answer=FailedWorkView,
        errors=(*VENUE, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
)
