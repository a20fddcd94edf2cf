"""Tickets offered by email over HTTP: the recipient accepting with the emailed token, and the
giver cancelling before then (services/claims.py holds the rules).

Claim ids, like ticket ids, carry their event's number, so a token or a claim id leads to its
event's tenant. A token that names no claim, and another fan's or tenant's claim, are NOT_FOUND;
a claim already accepted, cancelled or expired is CLAIM_NOT_PENDING.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.errors import ApiError, ErrorCode, refusals_answered
from gateway.exchange import answer_once, authenticate, json_response, path_id, read_body
from gateway.routes.orders import ticket_view
from gateway.schemas import format_moment
from gateway.state import gateway_state
from gateway.ticket_schemas import ClaimView
from persistence.event_details import EventDetails
from persistence.ticket_claims import ClaimRecord
from services.claims import accept_claim, cancel_claim, read_claim_token

router = APIRouter()


def claim_view(claim: ClaimRecord) -> ClaimView:
    return ClaimView(
        claim_id=str(claim.claim_id),
        ticket_id=str(claim.ticket_id),
        status=claim.status,  # type: ignore[arg-type]
        expires_at=format_moment(claim.expires_at_ms),
    )


async def claim_event(request: Request, claim_id: str) -> EventDetails:
    """The event a claim id was minted for; NOT_FOUND when it names none."""
    details: EventDetails | None = await gateway_state(request).catalog.details_of_located_id(
        path_id(claim_id)
    )
    if details is None:
        raise ApiError(ErrorCode.NOT_FOUND, message="no such claim")
    return details


@router.post("/v1/claims/{claim_token}/accept")
async def accept(request: Request, claim_token: str) -> Response:
    """Take the ticket offered by email: the caller's new ticket, its NFT following on chain."""
    principal = await authenticate(request)
    raw_body = await read_body(request)

    async def produce() -> Response:
        token = read_claim_token(claim_token)
        if token is None:
            raise ApiError(ErrorCode.NOT_FOUND, message="no such claim")
        details = await claim_event(request, str(token.claim_id))
        state = gateway_state(request)
        with refusals_answered():
            given = await accept_claim(
                state.database_pool,
                details=details,
                token=token,
                taker_id=principal.caller,
                now_ms=state.clock(),
            )
        return json_response(ticket_view(given))

    return await answer_once(request, principal, raw_body, produce)


@router.delete("/v1/claims/{claim_id}")
async def cancel(request: Request, claim_id: str) -> Response:
    """The giver takes the offer back; the ticket never left them."""
    principal = await authenticate(request)
    details = await claim_event(request, claim_id)
    state = gateway_state(request)
    with refusals_answered():
        cancelled = await cancel_claim(
            state.database_pool,
            details=details,
            claim_id=path_id(claim_id),
            giver_id=principal.caller,
            now_ms=state.clock(),
        )
    return json_response(claim_view(cancelled))
