"""The venue's balance, as `GET /v1/venue/balance` answers it (API.md, the service desk)."""

from gateway.schemas import Response


class EventBalanceView(Response):
    """`gross_cents` is the face value of the event's paid orders, `refunds_cents` the face value
    refunded, `net_cents` (gross less refunds) what is owed to the venue; `fees_cents`, the fees
    net of refunded fees, are the platform's and shown apart."""

    event_id: str
    currency: str
    gross_cents: int
    refunds_cents: int
    net_cents: int
    fees_cents: int


class BalanceView(Response):
    """`currency` is the events' currency, null when they sell in more than one (each event
    names its own)."""

    currency: str | None
    events: list[EventBalanceView]
