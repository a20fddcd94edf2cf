"""The operations of the venue's tools (API.md v1.1), one row each: claims of
tickets offered by email, the CSV exports and the venue's balance (gateway/operations.py says
what a row is).
"""

from gateway.balance_schemas import BalanceView
from gateway.errors import ErrorCode
from gateway.operations import VENUE, Operation, QueryParameter
from gateway.order_schemas import TicketView
from gateway.ticket_schemas import ClaimView

VENUE_TOOL_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="post",
        path="/v1/claims/{claim_token}/accept",
        summary="Accept a ticket offered to you by email, with the token of its link: the answer "
        "is your new ticket, and its NFT follows to your wallet",
        answer_status=200,
        answer=TicketView,
        errors=(
            ErrorCode.NOT_FOUND,
            ErrorCode.CLAIM_NOT_PENDING,
            ErrorCode.TRANSFER_NOT_ALLOWED,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="delete",
        path="/v1/claims/{claim_id}",
        summary="Take back a ticket you offered by email, while it is not yet accepted",
        answer_status=200,
        answer=ClaimView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.CLAIM_NOT_PENDING),
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/exports/{kind}.csv",
        summary="The event's orders, attendees (tickets held), scans or ledger entries as CSV "
        "(`kind` is `orders`, `attendees`, `scans` or `ledger`), streamed with a header row; "
        "a cell that starts with = + - or @ is written after a '",
        answer_status=200,
        answer=None,
        media_type="text/csv",
        errors=VENUE,
    ),
    Operation(
        method="get",
        path="/v1/venue/balance",
        summary="What each of the tenant's events owes the venue, from the ledger: gross, "
        "refunds and net, with the fees shown apart",
        answer_status=200,
        answer=BalanceView,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR),
        query=(
            QueryParameter(
                name="event_id",
                schema={"type": "string", "format": "uuid"},
                description="Only this event.",
            ),
        ),
    ),
)
