"""The embedded SMTP sink: a real SMTP server on the loopback (or `--host`) keeping each message.

Started when SMTP_URL is unset, so the embedded stack sends real email over real SMTP without a
mail server installed. Each accepted message becomes `<arrival ns>-<random>.eml` in its directory,
headed by `X-MailFrom` and `X-RcptTo` lines with the envelope; the name sorts in arrival order and
the file appears whole (it is renamed into place). Run as `python -m embedded.smtp_sink`, a
child process of the embedded runtime (embedded/smtp_part.py).
"""

import argparse
import asyncio
import contextlib
import pathlib
import signal
import smtplib
import time
import uuid

from aiosmtpd.smtp import SMTP, Envelope, Session

from engine import limits

SINK_HOST = "127.0.0.1"
MESSAGE_SUFFIX = ".eml"
PROBE_TIMEOUT_S = 1.0
SMTP_OK = 250
ACCEPTED = f"{SMTP_OK} Message accepted for delivery"


class MessageDirectory:
    """The aiosmtpd handler that writes each message's envelope and content to a file."""

    def __init__(self, directory: pathlib.Path) -> None:
        self._directory = directory

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        header = (
            f"X-MailFrom: {envelope.mail_from}\r\nX-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        temporary = self._directory / f".{name}.tmp"
        temporary.write_bytes(header + content)
        temporary.replace(self._directory / f"{name}{MESSAGE_SUFFIX}")
        return ACCEPTED


async def serve(directory: pathlib.Path, port: int, host: str = SINK_HOST) -> None:
    """Accept mail on `host`:`port` until SIGINT or SIGTERM; `directory` exists already. The
    embedded run listens on the loopback; a cluster's development sink on an address every node
    reaches."""
    handler = MessageDirectory(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="onsale-smtp-sink",
            data_size_limit=limits.SMTP_SINK_MESSAGE_BYTES_MAX,
            enable_SMTPUTF8=True,
        ),
        host=host,
        port=port,
        reuse_address=True,
    )
    stop = asyncio.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    async with server:
        await stop.wait()


def read_messages(directory: pathlib.Path) -> list[bytes]:
    """Every message the sink has kept, in arrival order."""
    return [path.read_bytes() for path in sorted(directory.glob(f"*{MESSAGE_SUFFIX}"))]


def answers_smtp(port: int) -> bool:
    with (
        contextlib.suppress(OSError, smtplib.SMTPException),
        smtplib.SMTP(SINK_HOST, port, timeout=PROBE_TIMEOUT_S) as client,
    ):
        return client.noop()[0] == SMTP_OK
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", type=pathlib.Path, required=True)
    parser.add_argument("--host", default=SINK_HOST)
    arguments = parser.parse_args()
    arguments.directory.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(arguments.directory, arguments.port, arguments.host))


if __name__ == "__main__":
    main()
