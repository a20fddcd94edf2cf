"""The notice: what a change announces to the fan and the venue, as the outbox carries it.

The transaction that records an order's change writes one `Notice` to the outbox under the topic
`notice_topic(kind)`, with the order id (or, for a transfer, the ticket id) as its aggregate id.
Fields are only ever added, with defaults, so messages already in the outbox still decode.
"""

import enum
import uuid

import msgspec


class NoticeKind(enum.StrEnum):
    ORDER_CONFIRMED = "order_confirmed"
    PAYMENT_FAILED = "payment_failed"
    ORDER_EXPIRED = "order_expired"
    REFUNDED = "refunded"
    TICKET_TRANSFERRED = "ticket_transferred"
    WAIT_LIST_OFFERED = "wait_list_offered"
    TICKET_CLAIM_OFFERED = "ticket_claim_offered"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_POSTPONED = "event_postponed"


NOTICE_TOPIC_PREFIX = "notice."


def notice_topic(kind: NoticeKind) -> str:
    return NOTICE_TOPIC_PREFIX + kind.value


NOTICE_TOPICS: tuple[str, ...] = tuple(notice_topic(kind) for kind in NoticeKind)


class NoticeTicket(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    ticket_type_name: str
    seat: str | None = None


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """One change to tell about.

    `email` is where the fan's email goes, None when there is no address (then no email is sent):
    for `ticket_transferred` it is the recipient's address, `user_id` the giver and `to_user_id`
    the recipient. `total_cents` is the order's total (for `refunded`, the amount refunded), in
    `currency`'s minor units; `reason` says why an order failed, expired or was refunded. A
    `wait_list_offered` notice names no order: it offers the hold `hold_id` of `quantity` tickets,
    `total_cents` before fees, until `offer_expires_at_ms`. A notice sent again at the venue's
    request (the service desk's resend) carries `resend_id`, which makes it a new occurrence.
    A `ticket_claim_offered` notice offers `tickets` to `email` from `user_id` until
    `offer_expires_at_ms`: `claim_token` is what its taker sends to claim them, and nothing but
    the email ever keeps it (the notification's own record is written without it). An
    `event_cancelled` notice tells the fan of an order refunded in full (`total_cents`) because
    its event was cancelled for `reason`; an `event_postponed` one gives the new `starts_at_ms`
    and, until `refund_until_ms`, the fan's right to ask for a refund.
    """

    kind: NoticeKind
    tenant_id: uuid.UUID
    event_id: uuid.UUID
    event_name: str
    order_id: uuid.UUID | None
    user_id: str
    email: str | None
    total_cents: int
    currency: str
    tickets: tuple[NoticeTicket, ...] = ()
    reason: str | None = None
    to_user_id: str | None = None
    hold_id: uuid.UUID | None = None
    quantity: int | None = None
    offer_expires_at_ms: int | None = None
    resend_id: uuid.UUID | None = None
    claim_id: uuid.UUID | None = None
    claim_token: str | None = None
    starts_at_ms: int | None = None
    refund_until_ms: int | None = None


NOTICE_DECODER = msgspec.json.Decoder(Notice)


def encode_notice(notice: Notice) -> str:
    """The outbox payload of a notice, as JSON text."""
    return msgspec.json.encode(notice).decode()


def decode_notice(payload: str) -> Notice:
    return NOTICE_DECODER.decode(payload)
