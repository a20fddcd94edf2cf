"""The email of each notice kind: its subject and plain-text body, addressed and dated.

Every kind has its composer in `BODY_COMPOSERS`, checked exhaustive at import. Amounts are
written by `format_amount` from integer minor units. The Message-ID is derived from the
notification's id, so a message sent again after a crash carries the same id and mail clients
show it once.
"""

import datetime
import email.message
import email.policy
import email.utils
import uuid
from collections.abc import Callable

from notifications.money import format_amount
from notifications.notices import Notice, NoticeKind, NoticeTicket

SIGN_OFF = "\n\nThis message was sent automatically; replies are not read.\n"


def single_line(text: str) -> str:
    """Header-safe text: any run of whitespace, line breaks included, becomes one space."""
    return " ".join(text.split())


def ticket_lines(tickets: tuple[NoticeTicket, ...]) -> str:
    lines = []
    for ticket in tickets:
        seat = f", seat {ticket.seat}" if ticket.seat else ""
        lines.append(f"  - {ticket.ticket_type_name}{seat} (ticket {ticket.ticket_id})")
    return "\n".join(lines)


def reason_line(notice: Notice) -> str:
    return f"\nReason: {notice.reason}\n" if notice.reason else ""


def order_confirmed(notice: Notice) -> tuple[str, str]:
    body = (
        f"Your order for {notice.event_name} is confirmed.\n\n"
        f"Order: {notice.order_id}\n"
        f"Tickets:\n{ticket_lines(notice.tickets)}\n\n"
        f"Total paid: {format_amount(notice.total_cents, notice.currency)}\n\n"
        "Your tickets are in your account. Show each ticket's QR code at the door."
    )
    return f"Your tickets for {notice.event_name}", body


def payment_failed(notice: Notice) -> tuple[str, str]:
    body = (
        f"We could not take the payment of "
        f"{format_amount(notice.total_cents, notice.currency)} for your order for "
        f"{notice.event_name} (order {notice.order_id}).\n"
        f"{reason_line(notice)}\n"
        "No tickets were issued and nothing was charged. The tickets held for you are released; "
        "you are welcome to try again while tickets are available."
    )
    return f"Your payment for {notice.event_name} did not go through", body


def order_expired(notice: Notice) -> tuple[str, str]:
    body = (
        f"The time to pay for your order for {notice.event_name} (order {notice.order_id}) "
        "ran out before the payment arrived.\n\n"
        "The tickets held for you are released and nothing was charged."
    )
    return f"Your order for {notice.event_name} expired", body


def refunded(notice: Notice) -> tuple[str, str]:
    tickets = (
        f"\nThese tickets are cancelled:\n{ticket_lines(notice.tickets)}\n"
        if notice.tickets
        else ""
    )
    body = (
        f"Your order for {notice.event_name} (order {notice.order_id}) is refunded: "
        f"{format_amount(notice.total_cents, notice.currency)} goes back to the card you paid "
        "with. Your bank may take a few days to show it.\n"
        f"{reason_line(notice)}{tickets}"
    )
    return f"Your refund for {notice.event_name}", body


def ticket_transferred(notice: Notice) -> tuple[str, str]:
    count = "a ticket" if len(notice.tickets) == 1 else f"{len(notice.tickets)} tickets"
    body = (
        f"{notice.user_id} transferred {count} for {notice.event_name} to you:\n"
        f"{ticket_lines(notice.tickets)}\n\n"
        "The tickets are in your account now. Show each ticket's QR code at the door."
    )
    return f"A ticket for {notice.event_name} is yours", body


def moment_text(moment_ms: int) -> str:
    return datetime.datetime.fromtimestamp(moment_ms / 1_000, tz=datetime.UTC).strftime(
        "%Y-%m-%d %H:%M UTC"
    )


def event_cancelled(notice: Notice) -> tuple[str, str]:
    body = (
        f"We are sorry: {notice.event_name} is cancelled.\n"
        f"{reason_line(notice)}\n"
        f"Your order {notice.order_id} is refunded in full: "
        f"{format_amount(notice.total_cents, notice.currency)} goes back to the card you paid "
        "with. Your bank may take a few days to show it. Your tickets are no longer valid; "
        "there is nothing you need to do."
    )
    return f"{notice.event_name} is cancelled: your refund", body


def event_postponed(notice: Notice) -> tuple[str, str]:
    starts = (
        "" if notice.starts_at_ms is None else f" It now starts {moment_text(notice.starts_at_ms)}."
    )
    window = (
        ""
        if notice.refund_until_ms is None
        else "\n\nIf the new date does not suit you, you may ask for a full refund of your order "
        f"in your account until {moment_text(notice.refund_until_ms)}."
    )
    body = (
        f"{notice.event_name} is postponed.{starts}\n\n"
        f"Your tickets (order {notice.order_id}) stay valid for the new date.{window}"
    )
    return f"{notice.event_name} is postponed", body


def wait_list_offered(notice: Notice) -> tuple[str, str]:
    count = "a ticket" if notice.quantity == 1 else f"{notice.quantity} tickets"
    until = (
        ""
        if notice.offer_expires_at_ms is None
        else datetime.datetime.fromtimestamp(
            notice.offer_expires_at_ms / 1_000, tz=datetime.UTC
        ).strftime(" until %Y-%m-%d %H:%M UTC")
    )
    body = (
        f"Tickets came back for {notice.event_name}, and you are next on the wait list: "
        f"{count} are held for you{until}, for "
        f"{format_amount(notice.total_cents, notice.currency)} before fees.\n\n"
        f"Hold: {notice.hold_id}\n\n"
        "Check out the hold before then to buy them; after that they go to the next fan waiting."
    )
    return f"Your wait-list offer for {notice.event_name}", body


def until_line(offer_expires_at_ms: int | None) -> str:
    if offer_expires_at_ms is None:
        return ""
    moment = datetime.datetime.fromtimestamp(offer_expires_at_ms / 1_000, tz=datetime.UTC)
    return moment.strftime(" until %Y-%m-%d %H:%M UTC")


def ticket_claim_offered(notice: Notice) -> tuple[str, str]:
    count = "a ticket" if len(notice.tickets) == 1 else f"{len(notice.tickets)} tickets"
    body = (
        f"{notice.user_id} is giving you {count} for {notice.event_name}:\n"
        f"{ticket_lines(notice.tickets)}\n\n"
        f"Sign in and claim it{until_line(notice.offer_expires_at_ms)} with this link:\n\n"
        f"  /v1/claims/{notice.claim_token}/accept\n\n"
        "Keep the link to yourself: whoever claims it first gets the ticket. If you do not want "
        "it, do nothing; the offer lapses."
    )
    return f"A ticket for {notice.event_name} is waiting for you", body


BODY_COMPOSERS: dict[NoticeKind, Callable[[Notice], tuple[str, str]]] = {
    NoticeKind.ORDER_CONFIRMED: order_confirmed,
    NoticeKind.PAYMENT_FAILED: payment_failed,
    NoticeKind.ORDER_EXPIRED: order_expired,
    NoticeKind.REFUNDED: refunded,
    NoticeKind.TICKET_TRANSFERRED: ticket_transferred,
    NoticeKind.WAIT_LIST_OFFERED: wait_list_offered,
    NoticeKind.TICKET_CLAIM_OFFERED: ticket_claim_offered,
    NoticeKind.EVENT_CANCELLED: event_cancelled,
    NoticeKind.EVENT_POSTPONED: event_postponed,
}
assert set(BODY_COMPOSERS) == set(NoticeKind), "every notice kind has an email"


class UnsendableAddress(ValueError):
    """The address cannot be written into a message; no server would ever accept it."""


def checked_address(address: str) -> str:
    _, parsed = email.utils.parseaddr(address)
    if not parsed or parsed != address.strip() or "@" not in parsed:
        raise UnsendableAddress(f"{address!r} is not an email address")
    return parsed


def compose_email(
    notice: Notice,
    *,
    sender: str,
    recipient: str,
    notification_id: uuid.UUID,
    now_s: float,
) -> email.message.EmailMessage:
    """The message for `recipient`; raises UnsendableAddress when an address is malformed."""
    subject, body = BODY_COMPOSERS[notice.kind](notice)
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["From"] = checked_address(sender)
    message["To"] = checked_address(recipient)
    message["Subject"] = single_line(subject)
    message["Date"] = email.utils.formatdate(now_s, usegmt=True)
    message["Message-ID"] = f"<{notification_id}@{sender.rpartition('@')[2]}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body + SIGN_OFF)
    return message
