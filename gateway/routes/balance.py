"""The venue's balance over HTTP: for the venue managers and admins of a tenant, what each of its
events owes the venue, from the ledger (persistence/venue_balance.py). `event_id` narrows it to
one event; another tenant's event is NOT_FOUND."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.balance_schemas import BalanceView, EventBalanceView
from gateway.canonical_ids import canonical_uuid
from gateway.exchange import VENUE_ROLES, authenticate, invalid, json_response
from gateway.routes.venue import tenant_event
from gateway.state import gateway_state
from persistence.tenancy import tenant_transaction
from persistence.venue_balance import EventBalance, load_event_balances

router = APIRouter()


def event_balance_view(balance: EventBalance) -> EventBalanceView:
    return EventBalanceView(
        event_id=str(balance.event_id),
        currency=balance.currency,
        gross_cents=balance.gross_cents,
        refunds_cents=balance.refunds_cents,
        net_cents=balance.gross_cents - balance.refunds_cents,
        fees_cents=balance.fees_cents,
    )


@router.get("/v1/venue/balance")
async def read_balance(request: Request) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    event_text = request.query_params.get("event_id")
    event_id: uuid.UUID | None = None
    if event_text is not None:
        if canonical_uuid(event_text) is None:
            raise invalid("event_id is an event's id", parameter="event_id")
        details = await tenant_event(request, principal, event_text)
        event_id = details.location.event_id
    async with tenant_transaction(
        gateway_state(request).database_pool, principal.tenant_id
    ) as connection:
        balances = await load_event_balances(connection, event_id=event_id)
    currencies = {balance.currency for balance in balances}
    return json_response(
        BalanceView(
            currency=currencies.pop() if len(currencies) == 1 else None,
            events=[event_balance_view(balance) for balance in balances],
        )
    )
