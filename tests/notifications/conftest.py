"""Real parts for notification tests: the SMTP sink in its own process, a venue's HTTP server in a
thread, and the persistence fixtures (a migrated database, its owner and the service pool)."""

import http.server
import pathlib
import threading
import time
from collections.abc import Iterator

import pytest

from embedded.loopback import free_port
from embedded.smtp_part import EmbeddedSmtpSink
from embedded.smtp_sink import read_messages
from tests.conftest import private_directory
from tests.persistence.conftest import migrated_database_url, owner_connection, service_pool

__all__ = ["migrated_database_url", "owner_connection", "service_pool"]
# How soon the venue server notices it should stop.
SERVER_POLL_S = 0.02


class RunningSink:
    def __init__(self, url: str, directory: pathlib.Path) -> None:
        self.url = url
        self.directory = directory

    def messages(self) -> list[bytes]:
        return read_messages(self.directory)


@pytest.fixture
def smtp_sink() -> Iterator[RunningSink]:
    with private_directory("onsale-test-mail-") as directory:
        sink = EmbeddedSmtpSink(directory / "mail", free_port())
        try:
            yield RunningSink(sink.start(), directory / "mail")
        finally:
            sink.stop()


class ReceivedRequest:
    def __init__(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.path = path
        self.headers = headers
        self.body = body


class VenueServer:
    """A venue's endpoint: records every POST and answers the scripted statuses, then 200.

    `answer_delay_s` holds each answer back, so that concurrent senders overlap for certain.
    """

    def __init__(self) -> None:
        self.received: list[ReceivedRequest] = []
        self.statuses: list[int] = []
        self.answer_delay_s = 0.0
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with server._lock:
                    server.received.append(ReceivedRequest(self.path, dict(self.headers), body))
                    status = server.statuses.pop(0) if server.statuses else 200
                time.sleep(server.answer_delay_s)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *arguments: object) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/onsale"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(SERVER_POLL_S,), daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def venue_server() -> Iterator[VenueServer]:
    server = VenueServer()
    server.start()
    yield server
    server.stop()
