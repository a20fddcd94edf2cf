"""The bodies of API.md's orders, payments and tickets as msgspec Structs: checkout, paying,
refunding, an order with its tickets, and Stripe's webhook answer.

As in gateway/schemas.py, requests forbid unknown fields and the OpenAPI document is generated
from these Structs; every ticket is shown as a `TicketView`, the one format of a ticket.
"""

from typing import Annotated, Literal

from msgspec import Meta

from engine import limits
from gateway.schemas import Request, Response

CardNumber = Annotated[str, Meta(pattern=r"^[0-9]{12,19}$")]
RefundReason = Annotated[str, Meta(min_length=1, max_length=limits.REFUND_REASON_CHARACTERS_MAX)]


class PayBody(Request):
    """A Stripe test card number: 4242424242424242 pays, 4000000000000002 is declined."""

    card: CardNumber


class RefundBody(Request):
    """No `ticket_ids`: all the order has left goes back; `refund_fees` says whether the tickets'
    share of the fees goes back with their face value."""

    reason: RefundReason
    ticket_ids: (
        Annotated[list[str], Meta(min_length=1, max_length=limits.TICKETS_PER_REFUND_MAX)] | None
    ) = None
    refund_fees: bool = True


class PaymentView(Response):
    provider: Literal["stripe"]
    payment_intent_id: str
    client_secret: str


OrderStatus = Literal[
    "pending_payment",
    "paid",
    "fulfilled",
    "payment_failed",
    "expired",
    "partially_refunded",
    "refunded",
    "cancelled",
]


class CheckoutView(Response):
    order_id: str
    status: OrderStatus
    subtotal_cents: int
    fees_cents: int
    total_cents: int
    currency: str
    expires_at: str
    payment: PaymentView


class MintView(Response):
    status: Literal["pending", "minted", "failed"]
    mint_address: str | None
    signature: str | None


TicketStatus = Literal[
    "valid",
    "checked_in",
    "transferred",
    "refunded",
    "revoked",
    "locked",
    "expired",
    "cancelled",
]


class TicketView(Response):
    """One format wherever a ticket appears."""

    ticket_id: str
    event_id: str
    order_id: str
    ticket_type_id: str
    seat: str | None
    status: TicketStatus
    issued_at: str
    mint: MintView
    status_reason: str | None = None
    checked_in_at: str | None = None


class OrderView(Response):
    order_id: str
    event_id: str
    status: OrderStatus
    subtotal_cents: int
    fees_cents: int
    total_cents: int
    currency: str
    expires_at: str
    created_at: str
    paid_at: str | None
    tickets: list[TicketView]


class WebhookAnswer(Response):
    received: bool
    applied: bool
