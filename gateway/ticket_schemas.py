"""The bodies of the Tickets section of API.md and of the venue's ticket tools, as msgspec Structs.

As in gateway/schemas.py, requests forbid unknown fields and the OpenAPI document is generated
from these Structs; every ticket they show is a `TicketView`, the one format of a ticket.
"""

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine import limits
from engine.admission import ScanReason
from engine.comps import CompReason
from engine.entry.presence import Direction
from gateway.order_schemas import TicketView
from gateway.schemas import Identifier, Moment, Request, Response, SeatLabel, ZoneId

UserId = Annotated[str, Meta(min_length=1, max_length=limits.USER_ID_CHARACTERS_MAX)]
TenantId = Annotated[
    str,
    Meta(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        description="A tenant UUID; the caller's own tenant when left out.",
    ),
]
DeviceId = Annotated[str, Meta(min_length=1, max_length=limits.DEVICE_ID_CHARACTERS_MAX)]
QrPayloadText = Annotated[str, Meta(min_length=1, max_length=limits.QR_PAYLOAD_CHARACTERS_MAX)]
Note = Annotated[str, Meta(min_length=1, max_length=limits.TICKET_NOTE_CHARACTERS_MAX)]
ContactEmail = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=limits.CONTACT_EMAIL_CHARACTERS_MAX,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    ),
]
CompQuantity = Annotated[int, Meta(ge=1, le=limits.TICKETS_PER_COMP_ORDER_MAX)]
LockReason = Literal["fraud", "chargeback", "dispute", "legal_hold"]
ScanResult = Literal["admitted", "rejected"]


class TicketList(Response):
    """A page of the caller's tickets, newest first; `next_cursor` is null on the last page."""

    tickets: list[TicketView]
    next_cursor: str | None


class QrView(Response):
    """The code to show now; fetch the next one by `expires_at`."""

    payload: str
    expires_at: str
    rotates_every_s: int


class CodeKeyView(Response):
    """What the owner's app needs to show valid codes with no network: `signing_key` is the
    ticket's Ed25519 seed (RFC 8032, base64url), `public_key` its public key. A code is
    `tq2.<ticket_id>.<step>.<signature>`, the signature (base64url, no padding) over
    `tq2.<ticket_id>.<step>`, a step being floor(unix milliseconds / (qr_step_s * 1000)); a gate
    accepts `qr_skew_steps` steps either side of its own. Keep the key on the device only."""

    ticket_id: str
    payload_version: str
    signing_key: str
    public_key: str
    qr_step_s: int
    qr_skew_steps: int


class TransferBody(Request):
    """The recipient is `to_user_id` (a token's `sub`) of `to_tenant_id`, who gets the ticket at
    once; or `to_email`, who is emailed a link to claim it (exactly one of the two)."""

    to_user_id: UserId | None = None
    to_tenant_id: TenantId | None = None
    to_email: ContactEmail | None = None


class ClaimView(Response):
    """A ticket offered by email. It stays the giver's until someone signs in with the emailed
    token and accepts it (`POST /v1/claims/{claim_token}/accept`), by `expires_at`; `status` is
    `pending`, `accepted`, `cancelled` (by its giver) or `expired`."""

    claim_id: str
    ticket_id: str
    status: Literal["pending", "accepted", "cancelled", "expired"]
    expires_at: str


class ScanBody(Request):
    """`zone` is the gate's zone (left out at the main entrance), `direction` the way the gate
    lets the ticket through."""

    event_id: Identifier
    payload: QrPayloadText
    device_id: DeviceId
    zone: ZoneId | None = None
    direction: Direction = Direction.IN


class ScanView(Response):
    """`reason` says why a code was rejected; the ticket's fields are null when the code names no
    ticket of the event's venue."""

    result: ScanResult
    reason: ScanReason | None
    ticket_id: str | None
    ticket_type_id: str | None
    seat: str | None
    scan_id: str
    zone: str | None = None
    direction: Direction = Direction.IN


class OfflineScanBody(Request):
    payload: QrPayloadText
    scanned_at: Moment
    zone: ZoneId | None = None
    direction: Direction = Direction.IN


class OfflineScansBody(Request):
    """Scans a gate made while offline, each with the moment it was made. With a device token,
    the scans are recorded as the registered device's, whatever `device_id` says."""

    device_id: DeviceId
    scans: Annotated[
        list[OfflineScanBody], Meta(min_length=1, max_length=limits.OFFLINE_SCANS_PER_UPLOAD_MAX)
    ]


class OfflineScanView(Response):
    payload: str
    scanned_at: str
    result: ScanResult
    reason: ScanReason | None
    ticket_id: str | None
    zone: str | None = None
    direction: Direction = Direction.IN


class ScanConflictView(Response):
    """A scan recorded earlier whose result this upload changed: `told` is what its gate was told
    (`admitted` or the reason), `now` its result after the earlier scans uploaded now."""

    scan_id: str
    ticket_id: str
    scanned_at: str
    told: str
    now: str


class OfflineScansView(Response):
    """One result per uploaded scan, in the order sent. Each ticket's scans, recorded and
    uploaded, are replayed in the order they were made, so of two scans of one ticket the earlier
    admits and the later is a duplicate (`already_checked_in`), however late either was
    uploaded; a recorded scan whose result that changes is listed in `conflicts`. A scan counts
    only when made inside the event's door window (`outside_door_window`), not after the upload
    (`scanned_after_upload`), not before its ticket was issued (`before_ticket_issued`), and with
    the code of its moment (`code_step_mismatch`); a rejected scan changes nothing. A scan the
    ticket already has from the same device is not recorded twice."""

    event_id: str
    admitted: int
    rejected: int
    results: list[OfflineScanView]
    conflicts: list[ScanConflictView] = msgspec.field(default_factory=list)


class ManifestTicketView(Response):
    """`public_key` (base64url) is the ticket's Ed25519 public key: a code
    `tq2.<ticket_id>.<step>.<signature>` is the ticket's when the signature verifies with it over
    `tq2.<ticket_id>.<step>`, a step being floor(unix seconds / qr_step_s). It can make no code."""

    ticket_id: str
    ticket_type_id: str
    seat: str | None
    status: Literal["valid", "locked", "checked_in"]
    public_key: str


class ScanManifestView(Response):
    """A page of the event's current tickets for gates that lose their connection; admit a code
    only when its signature verifies with the ticket's public key, its step is within
    `qr_skew_steps` of the gate's and the ticket is `valid`, then upload what was scanned."""

    event_id: str
    generated_at: str
    payload_version: str
    qr_step_s: int
    qr_skew_steps: int
    tickets: list[ManifestTicketView]
    next_cursor: str | None


class CompItemBody(Request):
    ticket_type_id: Identifier
    quantity: CompQuantity


class CompBody(Request):
    """Free tickets for `to_user_id` of `to_tenant_id`, or for whoever claims them from the link
    emailed to `to_email` (exactly one of the two; until claimed they are the caller's):
    general quantities (`items`) or named seats (`seats`), exactly one. They are taken from what
    is on sale (`source` `on_sale`) or from the allocation the reason draws on (`set_aside`:
    press, artists' guests, or comps)."""

    reason: CompReason
    to_user_id: UserId | None = None
    to_email: ContactEmail | None = None
    to_tenant_id: TenantId | None = None
    items: (
        Annotated[list[CompItemBody], Meta(min_length=1, max_length=limits.ITEMS_PER_HOLD_MAX)]
        | None
    ) = None
    seats: (
        Annotated[list[SeatLabel], Meta(min_length=1, max_length=limits.TICKETS_PER_COMP_ORDER_MAX)]
        | None
    ) = None
    source: Literal["on_sale", "set_aside"] = "on_sale"
    email: ContactEmail | None = None
    note: Note | None = None


class CompView(Response):
    """`claims` holds each ticket's claim when the comps were offered to `to_email`."""

    order_id: str
    event_id: str
    reason: CompReason
    to_user_id: str | None
    to_tenant_id: str
    tickets: list[TicketView]
    to_email: str | None = None
    claims: list[ClaimView] = msgspec.field(default_factory=list)


class LockBody(Request):
    reason: LockReason
    note: Note | None = None


class NoteBody(Request):
    """Why, in the venue's words, kept in the audit log."""

    note: Note | None = None


class FailedWorkView(Response):
    """Work that ran out of its quick retries: a ticket's mint, an NFT's move to a new holder, or a
    notice. The service keeps retrying it on a long backoff until it lands (`next_attempt_at`);
    `POST /v1/venue/failed-work/{id}/retry` retries it at once. `status` is `failed` until it
    lands, then `done`; work still on its quick retries is `pending`."""

    id: str
    kind: Literal["mint", "transfer", "notice", "other"]
    topic: str
    status: Literal["failed", "pending", "done"]
    event_id: str | None
    ticket_id: str | None
    order_id: str | None
    transfer_id: str | None
    attempts: int
    last_error: str | None
    failed_at: str | None
    next_attempt_at: str | None


class FailedWorkList(Response):
    """The event's failed work, the longest failing first."""

    event_id: str
    failed_work: list[FailedWorkView]
