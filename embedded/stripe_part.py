"""The embedded Stripe API: localstripe (embedded/stripe_server.py) as our child on a loopback
port, its store under one directory, its webhooks pointed at the gateway after every start. A
server a crashed run left on the store writes its snapshot and is replaced, never adopted."""

import contextlib
import pathlib
import signal
import sys
import urllib.parse
import urllib.request

import msgspec

from embedded.child_processes import processes_running, stop_leftovers
from embedded.loopback import LOOPBACK_ADDRESS
from embedded.part import PROBE_TIMEOUT_S, EmbeddedPart

STRIPE_SNAPSHOT_FILE_NAME = "localstripe.pickle"
STRIPE_LOG_FILE_NAME = "localstripe.log"
STRIPE_PROBE_PATH = "/js.stripe.com/v3/"
STRIPE_WEBHOOK_ENDPOINT_ID = "onsale"
STRIPE_CONFIG_TIMEOUT_S = 10.0


class StripeWebhook(msgspec.Struct, frozen=True, kw_only=True):
    """Where the embedded Stripe sends its events, signed with `secret`."""

    url: str
    secret: str


def register_stripe_webhook(api_base: str, webhook: StripeWebhook) -> None:
    """Point localstripe's webhooks at our endpoint; localstripe keeps them in memory only, so
    this follows every start."""
    body = urllib.parse.urlencode({"url": webhook.url, "secret": webhook.secret})
    request = urllib.request.Request(
        f"{api_base}/_config/webhooks/{STRIPE_WEBHOOK_ENDPOINT_ID}",
        data=body.encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=STRIPE_CONFIG_TIMEOUT_S) as response:
        assert response.status == 200, f"localstripe refused the webhook: {response.status}"


def http_answers(url: str) -> bool:
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response,
    ):
        return bool(response.status == 200)
    return False


class EmbeddedStripe(EmbeddedPart):
    """localstripe (embedded/stripe_server.py) on `port`, its store under `data_dir`."""

    name = "stripe"
    # The server writes its store's snapshot, then exits.
    stop_signal = signal.SIGTERM

    def __init__(
        self, data_dir: pathlib.Path, port: int, webhook: StripeWebhook | None = None
    ) -> None:
        super().__init__(data_dir.resolve() / STRIPE_LOG_FILE_NAME)
        self._data_dir = data_dir.resolve()
        self._port = port
        self._webhook = webhook

    @property
    def api_base(self) -> str:
        return f"http://{LOOPBACK_ADDRESS}:{self._port}"

    def start(self) -> str:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        store = self._data_dir / STRIPE_SNAPSHOT_FILE_NAME
        stop_leftovers(
            self.name, processes_running("embedded.stripe_server", store), self.stop_signal
        )
        self._launch(
            [
                sys.executable,
                "-m",
                "embedded.stripe_server",
                "--port",
                str(self._port),
                "--store",
                str(store),
            ]
        )
        self._wait_until(lambda: http_answers(self.api_base + STRIPE_PROBE_PATH))
        if self._webhook is not None:
            register_stripe_webhook(self.api_base, self._webhook)
        return self.api_base
