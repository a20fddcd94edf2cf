"""The embedded SMTP sink receives real SMTP and keeps each message whole as a file."""

import email
import email.policy
import smtplib
import time
import urllib.parse
import uuid

from notifications.mail import compose_email
from notifications.mailer import Mailer
from tests.notifications.conftest import RunningSink
from tests.notifications.notice_builders import order_confirmed


async def test_message_is_kept_as_a_file_that_reads_back_when_sent_over_smtp(
    smtp_sink: RunningSink,
) -> None:
    notice = order_confirmed(uuid.uuid4(), uuid.uuid4())
    message = compose_email(
        notice,
        sender="tickets@onsale.localhost",
        recipient="fan@example.com",
        notification_id=uuid.uuid4(),
        now_s=time.time(),
    )

    assert await Mailer(smtp_sink.url).send(message) is None

    [kept] = smtp_sink.messages()
    received = email.message_from_bytes(kept, policy=email.policy.default)
    assert received["Subject"] == "Your tickets for Night One"
    assert received["To"] == "fan@example.com"
    assert received["X-RcptTo"] == "fan@example.com"
    assert received["Message-ID"] == message["Message-ID"]
    body = received.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert all(str(ticket.ticket_id) in text for ticket in notice.tickets)


def test_messages_are_kept_in_arrival_order_when_a_plain_client_sends_several(
    smtp_sink: RunningSink,
) -> None:
    port = urllib.parse.urlsplit(smtp_sink.url).port
    assert port is not None
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for number in range(3):
            client.sendmail(
                "a@example.com", ["b@example.com"], f"Subject: number {number}\r\n\r\nhi\r\n"
            )

    subjects = [
        email.message_from_bytes(kept, policy=email.policy.default)["Subject"]
        for kept in smtp_sink.messages()
    ]
    assert subjects == ["number 0", "number 1", "number 2"]
