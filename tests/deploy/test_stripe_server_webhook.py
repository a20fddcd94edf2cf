"""The Stripe server of the compose stack (`python -m embedded.stripe_server --webhook-url ...`)
sends its events, signed with STRIPE_WEBHOOK_SECRET, to the URL it was started with, and still
does after a restart, since localstripe keeps webhook endpoints in memory only."""

import http.server
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import stripe

from embedded.loopback import free_port
from embedded.stripe_part import STRIPE_PROBE_PATH, http_answers
from tests.conftest import PROJECT_ROOT

SECRET = "whsec_test_compose_webhook"
API_KEY = "sk_test_compose_webhook"
START_TIMEOUT_S = 30.0
DELIVERY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0
POLL_S = 0.05


class Receiver:
    """An HTTP endpoint on the loopback interface that keeps every POST's body and signature."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[tuple[bytes, str]] = queue.Queue()
        deliveries = self.deliveries

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deliveries.put((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *arguments: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/webhooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def event_for(self, payment_intent_id: str, event_type: str) -> stripe.Event:
        """The first delivery of `event_type` for the PaymentIntent, its signature verified."""
        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while (left_s := deadline - time.monotonic()) > 0:
            try:
                body, signature = self.deliveries.get(timeout=left_s)
            except queue.Empty:
                break
            event = stripe.Webhook.construct_event(body.decode(), signature, SECRET)
            if event.type == event_type and event.data.object.id == payment_intent_id:
                return event
        raise AssertionError(f"no {event_type} for {payment_intent_id} reached the receiver")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def server_command(port: int, store: pathlib.Path, webhook_url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "embedded.stripe_server",
        "--port",
        str(port),
        "--store",
        str(store),
        "--webhook-url",
        webhook_url,
    ]


def start_server(command: list[str], log: pathlib.Path, port: int) -> subprocess.Popen[bytes]:
    with log.open("ab") as log_file:
        server = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=os.environ | {"STRIPE_WEBHOOK_SECRET": SECRET},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not http_answers(f"http://127.0.0.1:{port}{STRIPE_PROBE_PATH}"):
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(POLL_S)
    return server


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def paid_intent_id(port: int) -> str:
    client = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": f"http://127.0.0.1:{port}"},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1_500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    return intent.id


def test_events_reach_the_url_given_at_start_signed_and_again_after_a_restart(
    receiver: Receiver, tmp_path: pathlib.Path
) -> None:
    port = free_port()
    command = server_command(port, tmp_path / "localstripe.pickle", receiver.url)
    for start in range(2):
        server = start_server(command, tmp_path / "localstripe.log", port)
        try:
            intent_id = paid_intent_id(port)
            event = receiver.event_for(intent_id, "payment_intent.succeeded")
            assert event.data.object.amount == 1_500, start
        finally:
            stop_server(server)


def test_a_webhook_url_without_its_secret_is_refused(tmp_path: pathlib.Path) -> None:
    refused = subprocess.run(
        server_command(free_port(), tmp_path / "localstripe.pickle", "http://127.0.0.1:9/hook"),
        cwd=PROJECT_ROOT,
        env={name: value for name, value in os.environ.items() if name != "STRIPE_WEBHOOK_SECRET"},
        capture_output=True,
        text=True,
        check=False,
        timeout=START_TIMEOUT_S,
    )
    assert refused.returncode == 2
    assert "STRIPE_WEBHOOK_SECRET" in refused.stderr
