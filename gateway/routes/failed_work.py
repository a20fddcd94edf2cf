"""Failed work over HTTP: the mints, NFT moves and notices of an event that ran out of their quick
retries, listed for its venue, and a retry of one at once.

The service never gives such work up (actors/outbox_dispatcher retries it on a long backoff until
it lands); these routes let the venue's managers and admins see it and hurry it. A work id is an
outbox message's id, found in the caller's tenant only: another tenant's is NOT_FOUND, like none.
"""

import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from gateway.cursors import page_limit
from gateway.errors import ApiError, ErrorCode
from gateway.exchange import (
    VENUE_ROLES,
    answer_once,
    authenticate,
    json_response,
    path_id,
    read_body,
)
from gateway.routes.venue import tenant_event
from gateway.schemas import format_moment
from gateway.state import gateway_state
from gateway.ticket_schemas import FailedWorkList, FailedWorkView
from minting.requests import MINT_TOPIC
from minting.transfer_requests import TRANSFER_TOPIC
from notifications.notices import NOTICE_TOPICS
from persistence.failed_work import FailedWork, list_failed_work, retry_failed_work
from persistence.tenancy import tenant_transaction

router = APIRouter()
WORK_KINDS = {
    MINT_TOPIC: "mint",
    TRANSFER_TOPIC: "transfer",
    **dict.fromkeys(NOTICE_TOPICS, "notice"),
}


class WorkSubject(msgspec.Struct, frozen=True, kw_only=True):
    """What a message of the service names, whichever topic it is: every payload carries its
    event, and a mint, a move or a notice its ticket, NFT, transfer or order."""

    event_id: str | None = None
    ticket_id: str | None = None
    nft_ticket_id: str | None = None
    transfer_id: str | None = None
    order_id: str | None = None


SUBJECT_DECODER = msgspec.json.Decoder(WorkSubject)


def work_view(work: FailedWork) -> FailedWorkView:
    try:
        subject = SUBJECT_DECODER.decode(work.payload)
    except msgspec.DecodeError:
        subject = WorkSubject()
    if work.dispatched:
        status = "done"
    elif work.failed_at_ms is not None:
        status = "failed"
    else:
        status = "pending"
    return FailedWorkView(
        id=str(work.message_id),
        kind=WORK_KINDS.get(work.topic, "other"),  # type: ignore[arg-type]
        topic=work.topic,
        status=status,  # type: ignore[arg-type]
        event_id=subject.event_id,
        ticket_id=subject.ticket_id or subject.nft_ticket_id,
        order_id=subject.order_id,
        transfer_id=subject.transfer_id,
        attempts=work.attempts,
        last_error=work.last_error,
        failed_at=None if work.failed_at_ms is None else format_moment(work.failed_at_ms),
        next_attempt_at=None if work.dispatched else format_moment(work.next_attempt_at_ms),
    )


@router.get("/v1/venue/events/{event_id}/failed-work")
async def read_failed_work(request: Request, event_id: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    details = await tenant_event(request, principal, event_id)
    limit = page_limit(
        request.query_params.get("limit"),
        default=limits.FAILED_WORK_LISTED_DEFAULT,
        maximum=limits.FAILED_WORK_LISTED_MAX,
    )
    async with tenant_transaction(
        gateway_state(request).database_pool, details.location.tenant_id
    ) as connection:
        failed = await list_failed_work(connection, event_id=details.location.event_id, limit=limit)
    return json_response(
        FailedWorkList(
            event_id=str(details.location.event_id),
            failed_work=[work_view(work) for work in failed],
        )
    )


@router.post("/v1/venue/failed-work/{work_id}/retry")
async def retry_work(request: Request, work_id: str) -> Response:
    """Retry one piece of work at once; retrying work that has landed changes nothing."""
    principal = await authenticate(request, *VENUE_ROLES)
    message_id: uuid.UUID = path_id(work_id)
    raw_body = await read_body(request)

    async def produce() -> Response:
        async with tenant_transaction(
            gateway_state(request).database_pool, principal.tenant_id
        ) as connection:
            work = await retry_failed_work(connection, message_id=message_id)
        if work is None:
            raise ApiError(ErrorCode.NOT_FOUND, message="no such work")
        return json_response(work_view(work), status=202)

    return await answer_once(request, principal, raw_body, produce)
