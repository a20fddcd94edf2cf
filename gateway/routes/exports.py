"""The venue's CSV exports of an event over HTTP: orders, attendees, scans and the ledger, for
the venue managers and admins of the event's tenant (another tenant's event is NOT_FOUND, as is
an export kind that does not exist).

The answer is streamed as the rows are read, a page at a time (persistence/exports.py): a header
row first, then one line per order, ticket held, scan or ledger entry.
"""

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from gateway.csv_cells import csv_lines
from gateway.errors import ApiError, ErrorCode
from gateway.exchange import VENUE_ROLES, authenticate
from gateway.routes.venue import tenant_event
from gateway.state import gateway_state
from persistence.event_details import EventDetails
from persistence.exports import EXPORT_HEADERS, ExportKind, export_pages

router = APIRouter()
CSV_MEDIA = "text/csv; charset=utf-8"


async def csv_stream(
    request: Request, details: EventDetails, kind: ExportKind
) -> AsyncIterator[bytes]:
    yield csv_lines([EXPORT_HEADERS[kind]])
    async for page in export_pages(
        gateway_state(request).database_pool,
        tenant_id=details.location.tenant_id,
        event_id=details.location.event_id,
        kind=kind,
    ):
        yield csv_lines(page)


@router.get("/v1/venue/events/{event_id}/exports/{kind}.csv")
async def export_csv(request: Request, event_id: str, kind: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    details = await tenant_event(request, principal, event_id)
    try:
        export_kind = ExportKind(kind)
    except ValueError:
        raise ApiError(
            ErrorCode.NOT_FOUND,
            message="no such export",
            details={"exports": [kind.value for kind in ExportKind]},
        ) from None
    filename = f"{details.location.event_id}-{export_kind.value}.csv"
    return StreamingResponse(
        csv_stream(request, details, export_kind),
        media_type=CSV_MEDIA,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
