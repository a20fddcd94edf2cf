"""Sends email to the SMTP server of `SMTP_URL`: the one module that speaks SMTP.

`smtp://host[:port]` uses STARTTLS whenever the server offers it (port 25 by default);
`smtps://host[:port]` speaks TLS from the first byte (port 465). A user and password in the URL
log in. Every send has a timeout.
"""

import email.message
import urllib.parse

import aiosmtplib
import msgspec

from engine import limits
from notifications.send_failure import SendFailure

SCHEME_PORTS = {"smtp": 25, "smtps": 465}
PERMANENT_REPLY_CODE_MIN = 500


class SmtpEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    hostname: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """The server an `smtp://` or `smtps://` URL names; raises ValueError for any other URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in SCHEME_PORTS or not parts.hostname:
        raise ValueError("SMTP_URL must be smtp://[user:password@]host[:port] or smtps://...")
    return SmtpEndpoint(
        hostname=parts.hostname,
        port=parts.port or SCHEME_PORTS[parts.scheme],
        implicit_tls=parts.scheme == "smtps",
        username=urllib.parse.unquote(parts.username) if parts.username else None,
        password=urllib.parse.unquote(parts.password) if parts.password else None,
    )


def failure_of(error: aiosmtplib.SMTPException) -> SendFailure:
    """A 5xx refusal of the recipients or of the message itself is final; anything else, a
    refused sender or login included (the server's configuration can be fixed), may pass later."""
    codes: list[int] = []
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
    elif isinstance(error, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        codes = [error.code]
    permanent = bool(codes) and all(code >= PERMANENT_REPLY_CODE_MIN for code in codes)
    return SendFailure(error=f"smtp: {error!r}", retryable=not permanent)


class Mailer:
    def __init__(self, smtp_url: str) -> None:
        """Raises ValueError when `smtp_url` is not an SMTP URL."""
        self._endpoint = parse_smtp_url(smtp_url)

    async def send(self, message: email.message.EmailMessage) -> SendFailure | None:
        """Hand the message to the server; None once it has accepted it."""
        endpoint = self._endpoint
        try:
            await aiosmtplib.send(
                message,
                hostname=endpoint.hostname,
                port=endpoint.port,
                username=endpoint.username,
                password=endpoint.password,
                use_tls=endpoint.implicit_tls,
                timeout=limits.SMTP_TIMEOUT_MS / 1_000,
            )
        except aiosmtplib.SMTPException as error:
            return failure_of(error)
        except OSError as error:
            return SendFailure(error=f"smtp: {error!r}", retryable=True)
        return None
