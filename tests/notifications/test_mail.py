"""The email of each notice kind, and money as the emails write it."""

import uuid

import pytest

from notifications.mail import UnsendableAddress, compose_email
from notifications.money import format_amount
from notifications.notices import Notice, NoticeKind, decode_notice, encode_notice, notice_topic
from tests.notifications.notice_builders import of_kind, order_confirmed

SENDER = "tickets@onsale.localhost"


def compose(notice: Notice, recipient: str = "fan@example.com") -> tuple[str, str]:
    message = compose_email(
        notice,
        sender=SENDER,
        recipient=recipient,
        notification_id=uuid.uuid4(),
        now_s=1_700_000_000,
    )
    return str(message["Subject"]), message.get_content()


@pytest.mark.parametrize(
    ("amount_cents", "currency", "written"),
    [
        (18_900, "USD", "USD 189.00"),
        (5, "EUR", "EUR 0.05"),
        (123_456_789, "GBP", "GBP 1,234,567.89"),
        (5_000, "JPY", "JPY 5,000"),
        (1_234, "KWD", "KWD 1.234"),
        (-1_205, "USD", "USD -12.05"),
        (0, "USD", "USD 0.00"),
    ],
)
def test_amount_is_written_from_minor_units_when_formatted(
    amount_cents: int, currency: str, written: str
) -> None:
    assert format_amount(amount_cents, currency) == written


def test_confirmation_lists_every_ticket_and_the_total_when_an_order_is_confirmed() -> None:
    notice = order_confirmed(uuid.uuid4(), uuid.uuid4())
    subject, body = compose(notice)

    assert subject == "Your tickets for Night One"
    for ticket in notice.tickets:
        assert str(ticket.ticket_id) in body
        assert ticket.ticket_type_name in body
    assert "seat 101-A-7" in body
    assert "USD 189.00" in body
    assert str(notice.order_id) in body


@pytest.mark.parametrize(
    ("kind", "subject_words", "body_words"),
    [
        (NoticeKind.PAYMENT_FAILED, "did not go through", "card declined"),
        (NoticeKind.ORDER_EXPIRED, "expired", "ran out before the payment"),
        (NoticeKind.REFUNDED, "refund", "card declined"),
        (NoticeKind.TICKET_TRANSFERRED, "is yours", "fan-1 transferred 2 tickets"),
    ],
)
def test_each_kind_says_what_happened_when_composed(
    kind: NoticeKind, subject_words: str, body_words: str
) -> None:
    notice = of_kind(order_confirmed(uuid.uuid4(), uuid.uuid4()), kind, reason="card declined")
    subject, body = compose(notice)

    assert subject_words in subject and "Night One" in subject
    assert body_words in body


def test_offer_says_how_many_tickets_are_held_and_until_when_when_composed() -> None:
    hold_id = uuid.uuid4()
    notice = of_kind(
        order_confirmed(uuid.uuid4(), uuid.uuid4()),
        NoticeKind.WAIT_LIST_OFFERED,
        order_id=None,
        tickets=(),
        total_cents=10_000,
        hold_id=hold_id,
        quantity=2,
        offer_expires_at_ms=1_700_000_600_000,
    )
    subject, body = compose(notice)

    assert subject == "Your wait-list offer for Night One"
    assert "2 tickets are held for you until 2023-11-14 22:23 UTC" in body
    assert str(hold_id) in body and "USD 100.00" in body


def test_claim_offer_carries_its_link_and_its_lapse_when_composed() -> None:
    token = "cl1.00000000-0000-8000-8000-000000000001.secret"
    notice = of_kind(
        order_confirmed(uuid.uuid4(), uuid.uuid4()),
        NoticeKind.TICKET_CLAIM_OFFERED,
        offer_expires_at_ms=1_700_000_600_000,
        claim_id=uuid.uuid4(),
        claim_token=token,
    )
    subject, body = compose(notice)

    assert subject == "A ticket for Night One is waiting for you"
    assert f"/v1/claims/{token}/accept" in body
    assert "until 2023-11-14 22:23 UTC" in body


def test_subject_stays_one_line_when_the_event_name_has_line_breaks() -> None:
    notice = of_kind(
        order_confirmed(uuid.uuid4(), uuid.uuid4()),
        NoticeKind.ORDER_CONFIRMED,
        event_name="Night\r\nBcc: victim@example.com",
    )
    subject, _ = compose(notice)
    assert subject == "Your tickets for Night Bcc: victim@example.com"


@pytest.mark.parametrize("recipient", ["not an address", "a@b.c\r\nBcc: x@y.z", ""])
def test_email_is_refused_when_the_recipient_is_not_an_address(recipient: str) -> None:
    with pytest.raises(UnsendableAddress):
        compose(order_confirmed(uuid.uuid4(), uuid.uuid4()), recipient)


def test_notice_reads_back_as_written_when_carried_by_the_outbox() -> None:
    notice = order_confirmed(uuid.uuid4(), uuid.uuid4())
    assert decode_notice(encode_notice(notice)) == notice
    assert notice_topic(NoticeKind.REFUNDED) == "notice.refunded"
