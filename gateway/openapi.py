"""The OpenAPI document at `/openapi.json`, generated from the routes' table and their Structs.

FastAPI cannot see msgspec Structs, so each operation is declared once here: its body, its answers
and the errors it can give. A route added without a row here is missing from the contract, and a
test compares this table with the app's routes.
"""

import re
from typing import Any

import msgspec

from engine import limits
from engine.tickets import TicketStatus
from gateway.errors import ERROR_TABLE, ErrorCode, ErrorEnvelope
from gateway.schemas import (
    CheckoutView,
    CreatedEventView,
    CreateEventBody,
    EventView,
    HoldBody,
    HoldView,
    OrderView,
    PatchEventBody,
    PayBody,
    QueueView,
    RefundBody,
    SeatmapView,
    StatsView,
    TicketView,
    VenueEventList,
    VenueEventView,
    WebhookAnswer,
)
from gateway.ticket_schemas import (
    CompBody,
    CompView,
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
from notifications.venue_webhooks import SIGNATURE_HEADER, WebhookBody

API_VERSION = "1"
BEARER = "bearer"
SSE = "text/event-stream"
COMMON_ERRORS = (
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.RATE_LIMITED,
    ErrorCode.UNAVAILABLE,
)
PATH_PARAMETER = re.compile(r"{([a-z_]+)}")
VENUE_WEBHOOK = "venue_webhook"


class QueryParameter(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    schema: dict[str, Any]
    description: str


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    path: str
    summary: str
    answer_status: int
    answer: type | None
    body: type | None = None
    errors: tuple[ErrorCode, ...] = ()
    idempotent: bool = False
    access_token: bool = False
    stream: bool = False
    authenticated: bool = True
    query: tuple[QueryParameter, ...] = ()


VENUE = (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND)
CURSOR = QueryParameter(
    name="cursor",
    schema={"type": "string", "maxLength": limits.TICKET_CURSOR_CHARACTERS_MAX},
    description="The `next_cursor` of the previous page; the first page without it.",
)
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="post",
        path="/v1/venue/events",
        summary=(
            "Create an event with its ticket types, seat map, on-sale settings and, optionally, "
            "the URL its venue webhooks go to"
        ),
        answer_status=201,
        answer=CreatedEventView,
        body=CreateEventBody,
        errors=(ErrorCode.FORBIDDEN, ErrorCode.VALIDATION_ERROR, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/events",
        summary="List the tenant's events",
        answer_status=200,
        answer=VenueEventList,
        errors=(ErrorCode.FORBIDDEN,),
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}",
        summary="Read one of the tenant's events",
        answer_status=200,
        answer=VenueEventView,
        errors=VENUE,
    ),
    Operation(
        method="patch",
        path="/v1/venue/events/{event_id}",
        summary="Pause or resume the sale, or change the admission rate",
        answer_status=200,
        answer=VenueEventView,
        body=PatchEventBody,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR),
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/stats",
        summary="The sale's live figures",
        answer_status=200,
        answer=StatsView,
        errors=VENUE,
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/stats/stream",
        summary="The sale's live figures as server-sent events, one each second",
        answer_status=200,
        answer=StatsView,
        errors=VENUE,
        stream=True,
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}",
        summary="An event with its ticket types and what is available",
        answer_status=200,
        answer=EventView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}/seatmap",
        summary="Every seat of the event, available or not",
        answer_status=200,
        answer=SeatmapView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="post",
        path="/v1/events/{event_id}/queue",
        summary="Join the waiting room (joining again returns the same place)",
        answer_status=200,
        answer=QueueView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.VALIDATION_ERROR),
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}/queue/{queue_id}",
        summary="Your place in the waiting room, and your access token once admitted",
        answer_status=200,
        answer=QueueView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="post",
        path="/v1/events/{event_id}/holds",
        summary="Hold general admission, named seats or the best available seats",
        answer_status=201,
        answer=HoldView,
        body=HoldBody,
        errors=(
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.NOT_FOUND,
            ErrorCode.SALE_NOT_OPEN,
            ErrorCode.NOT_ADMITTED,
            ErrorCode.SOLD_OUT,
            ErrorCode.SEAT_UNAVAILABLE,
            ErrorCode.LIMIT_EXCEEDED,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
        access_token=True,
    ),
    Operation(
        method="get",
        path="/v1/holds/{hold_id}",
        summary="Your hold, in whatever state it is",
        answer_status=200,
        answer=HoldView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="delete",
        path="/v1/holds/{hold_id}",
        summary="Release your hold; its inventory is available again at once",
        answer_status=204,
        answer=None,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.HOLD_EXPIRED),
    ),
    Operation(
        method="post",
        path="/v1/holds/{hold_id}/checkout",
        summary="Create the hold's order and its PaymentIntent; the hold lasts the payment window",
        answer_status=201,
        answer=CheckoutView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.HOLD_EXPIRED, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/orders/{order_id}",
        summary="An order with its tickets and their NFTs (its fan, or its venue)",
        answer_status=200,
        answer=OrderView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="post",
        path="/v1/orders/{order_id}/refund",
        summary="Refund a paid order through Stripe; its tickets end and its inventory is on sale",
        answer_status=200,
        answer=OrderView,
        body=RefundBody,
        errors=(
            *VENUE,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.ORDER_NOT_REFUNDABLE,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
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
        summary=f"Your ticket's code for now, signed with its own secret; it rotates every "
        f"{limits.QR_STEP_S} s",
        answer_status=200,
        answer=QrView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.TICKET_STATUS_CONFLICT),
    ),
    Operation(
        method="post",
        path="/v1/tickets/{ticket_id}/transfer",
        summary="Give your ticket to another fan; the answer is their new ticket, and its NFT "
        "moves to their wallet on chain",
        answer_status=200,
        answer=TicketView,
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
        summary="Scan a ticket's code at a gate: admitted once, else rejected with a reason",
        answer_status=200,
        answer=ScanView,
        body=ScanBody,
        errors=(*VENUE, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/scan-manifest",
        summary="The event's current tickets with their code keys, for gates that lose their "
        "connection",
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
        summary="Upload the scans a gate made offline; duplicates are resolved by scan time",
        answer_status=200,
        answer=OfflineScansView,
        body=OfflineScansBody,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="post",
        path="/v1/venue/events/{event_id}/comps",
        summary="Give tickets away with a reason; they count as sold, at no revenue",
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
        method="post",
        path="/v1/dev/orders/{order_id}/pay",
        summary="Development only: confirm the order's PaymentIntent with a Stripe test card",
        answer_status=200,
        answer=OrderView,
        body=PayBody,
        errors=(
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.NOT_FOUND,
            ErrorCode.PAYMENT_FAILED,
            ErrorCode.HOLD_EXPIRED,
        ),
    ),
    Operation(
        method="post",
        path="/v1/webhooks/stripe",
        summary="Stripe's events, verified by Stripe-Signature and applied once each",
        answer_status=200,
        answer=WebhookAnswer,
        errors=(ErrorCode.BAD_SIGNATURE, ErrorCode.UNAVAILABLE),
        authenticated=False,
    ),
    Operation(
        method="get",
        path="/health",
        summary="200 while the process runs",
        answer_status=200,
        answer=None,
        authenticated=False,
    ),
    Operation(
        method="get",
        path="/health/ready",
        summary="200 when Postgres, Redis and Ray answer, else 503 naming what failed",
        answer_status=200,
        answer=None,
        errors=(ErrorCode.UNAVAILABLE,),
        authenticated=False,
    ),
    Operation(
        method="get",
        path="/metrics",
        summary="Prometheus metrics",
        answer_status=200,
        answer=None,
        authenticated=False,
    ),
)


def _reference(struct: type) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{struct.__name__}"}


def _json_content(struct: type) -> dict[str, Any]:
    return {"application/json": {"schema": _reference(struct)}}


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PATH_PARAMETER.findall(operation.path)
    ]
    parameters.extend(
        {
            "name": query.name,
            "in": "query",
            "required": False,
            "schema": query.schema,
            "description": query.description,
        }
        for query in operation.query
    )
    if operation.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
                "description": "Replays the first response for 24 h; another body is a conflict.",
            }
        )
    if operation.access_token:
        parameters.append(
            {
                "name": "X-Access-Token",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The waiting room's access token; required when the room is on.",
            }
        )
    return parameters


def _responses(operation: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if operation.answer is None:
        responses[str(operation.answer_status)] = {"description": operation.summary}
    elif operation.stream:
        responses[str(operation.answer_status)] = {
            "description": "`data:` lines, each one StatsView as JSON",
            "content": {SSE: {"schema": {"type": "string"}}},
        }
    else:
        responses[str(operation.answer_status)] = {
            "description": operation.summary,
            "content": _json_content(operation.answer),
        }
    errors = (*COMMON_ERRORS, *operation.errors) if operation.authenticated else operation.errors
    if operation.body is not None or operation.path.count("{"):
        errors = (*errors, ErrorCode.VALIDATION_ERROR)
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(errors):
        by_status.setdefault(ERROR_TABLE[code][0], []).append(code.value)
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = {
            "description": " or ".join(codes),
            "content": _json_content(ErrorEnvelope),
        }
    return responses


def _webhooks() -> dict[str, Any]:
    """What the platform sends to a venue's `webhook_url`: OpenAPI 3.1's outgoing requests."""
    return {
        VENUE_WEBHOOK: {
            "post": {
                "summary": "An order of the event was confirmed, failed, expired or was refunded, "
                "or one of its tickets was transferred",
                "operationId": VENUE_WEBHOOK,
                "parameters": [
                    {
                        "name": SIGNATURE_HEADER,
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^t=[0-9]+,v1=[0-9a-f]{64}$"},
                        "description": 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" '
                        "keyed with the event's webhook_secret>; refuse a t more than "
                        f"{limits.WEBHOOK_SIGNATURE_TOLERANCE_S} s from now. The body's id is "
                        "the same on every delivery of one notification.",
                    }
                ],
                "requestBody": {"required": True, "content": _json_content(WebhookBody)},
                "responses": {
                    "200": {
                        "description": "Any 2xx acknowledges it. Network errors, 429 and 5xx "
                        "are retried with backoff; any other answer is final."
                    }
                },
            }
        }
    }


def openapi_document() -> dict[str, Any]:
    structs = {
        struct
        for operation in OPERATIONS
        for struct in (operation.body, operation.answer)
        if struct is not None
    }
    _, components = msgspec.json.schema_components(
        sorted([*structs, ErrorEnvelope, WebhookBody], key=lambda struct: struct.__name__),
        ref_template="#/components/schemas/{name}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        entry: dict[str, Any] = {
            "summary": operation.summary,
            "operationId": f"{operation.method}_{operation.path}",
            "parameters": _parameters(operation),
            "responses": _responses(operation),
        }
        if operation.body is not None:
            entry["requestBody"] = {"required": True, "content": _json_content(operation.body)}
        if operation.authenticated:
            entry["security"] = [{BEARER: []}]
        paths.setdefault(operation.path, {})[operation.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "On-sale API", "version": API_VERSION},
        "paths": paths,
        "webhooks": _webhooks(),
        "components": {
            "schemas": components,
            "securitySchemes": {
                BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
