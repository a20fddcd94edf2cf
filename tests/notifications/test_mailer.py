"""The SMTP client: what an SMTP_URL names, and which failures are worth trying again."""

import time
import uuid

import aiosmtplib
import pytest

from notifications.mail import compose_email
from notifications.mailer import Mailer, failure_of, parse_smtp_url
from tests.notifications.notice_builders import order_confirmed


def test_smtp_url_names_server_port_tls_and_login_when_parsed() -> None:
    plain = parse_smtp_url("smtp://127.0.0.1:2525")
    secure = parse_smtp_url("smtps://mailer:p%40ss@smtp.example.com")

    assert (plain.hostname, plain.port, plain.implicit_tls, plain.username) == (
        "127.0.0.1",
        2525,
        False,
        None,
    )
    assert (secure.port, secure.implicit_tls, secure.username, secure.password) == (
        465,
        True,
        "mailer",
        "p@ss",
    )


async def test_send_fails_retryably_when_no_server_listens() -> None:
    closed = Mailer("smtp://127.0.0.1:1")
    message = compose_email(
        order_confirmed(uuid.uuid4(), uuid.uuid4()),
        sender="tickets@onsale.localhost",
        recipient="fan@example.com",
        notification_id=uuid.uuid4(),
        now_s=time.time(),
    )

    failure = await closed.send(message)

    assert failure is not None and failure.retryable


@pytest.mark.parametrize("url", ["http://smtp.example.com", "smtp://", "mailto:a@b.c"])
def test_smtp_url_is_refused_when_it_names_no_smtp_server(url: str) -> None:
    with pytest.raises(ValueError):
        parse_smtp_url(url)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (
            aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no", "a@b.c")]),
            False,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(450, "busy", "a@b.c")]
            ),
            True,
        ),
        (aiosmtplib.SMTPDataError(554, "rejected"), False),
        (aiosmtplib.SMTPDataError(451, "try later"), True),
        (aiosmtplib.SMTPSenderRefused(550, "not yours", "tickets@onsale.localhost"), True),
        (aiosmtplib.SMTPAuthenticationError(535, "bad login"), True),
        (aiosmtplib.SMTPServerDisconnected("gone"), True),
    ],
    ids=[
        "recipient unknown",
        "recipient busy",
        "message rejected",
        "message deferred",
        "sender refused",
        "login refused",
        "disconnected",
    ],
)
def test_failure_is_retryable_unless_the_recipient_or_message_is_refused_for_good(
    error: aiosmtplib.SMTPException, retryable: bool
) -> None:
    assert failure_of(error).retryable is retryable
