"""The embedded start: brings up every part that has no URL configured, then serves the gateway.

`onsale up` calls `run`. Parts start in order (Postgres, migrations, Redis, Stripe, SMTP, Ray), the
gateway serves until SIGINT or SIGTERM, and the parts stop in reverse order, so the data directory
is left consistent and a second start finds everything as it was. This module and the app are the
only readers of settings.
"""

import asyncio
import contextlib
import gc
import logging
import os
import pathlib
import secrets
import signal
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from types import FrameType

import ray
import uvicorn
import uvloop

from actors.clients import RAY_NAMESPACE, PipelineStats, node_resources, pipeline_stats
from engine import limits
from gateway.app import create_app
from gateway.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedStripe, free_port
from gateway.metrics import serve_private_metrics
from gateway.parts import RUNTIME_FILE_NAME, Parts, write_runtime_file
from gateway.settings import Settings, SettingsError
from minting.authority import stored_authority_key
from notifications.smtp_sink import EmbeddedSmtpSink
from persistence.migrate import migrate
from persistence.pool import service_url, set_service_password

RAY_OBJECT_STORE_BYTES = 512 * 1024 * 1024
EMBEDDED_STRIPE_KEY = "sk_test_onsale_embedded"
STRIPE_WEBHOOK_ENDPOINT_ID = "onsale"
STRIPE_WEBHOOK_PATH = "/v1/webhooks/stripe"
STRIPE_CONFIG_TIMEOUT_S = 10.0
SERVER_STARTED_POLL_S = 0.05
MINT_AUTHORITY_FILE_NAME = "mint_authority.key"
CUSTODY_SEED_FILE_NAME = "custody_seed"
LOOPBACK_ADDRESS = "127.0.0.1"

log = logging.getLogger(__name__)


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived; every started part must now stop."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into an exception, so the parts started so far are stopped.

    uvicorn installs its own handlers while it serves, drains, and then re-raises the signal it
    caught; that lands here too, after the gateway has shut down cleanly.
    """

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        raise StopRequested(signal.Signals(signal_number).name)

    previous = {
        number: signal.signal(number, request_stop) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def persistent_secret(path: pathlib.Path, prefix: str) -> str:
    """A secret generated once and kept in the data directory, so restarts keep it."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = prefix + secrets.token_hex(24)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def register_stripe_webhook(api_base: str, gateway_url: str, secret: str) -> None:
    """Point localstripe's webhooks at our endpoint, signed with our secret."""
    body = urllib.parse.urlencode({"url": gateway_url + STRIPE_WEBHOOK_PATH, "secret": secret})
    request = urllib.request.Request(
        f"{api_base}/_config/webhooks/{STRIPE_WEBHOOK_ENDPOINT_ID}",
        data=body.encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=STRIPE_CONFIG_TIMEOUT_S) as response:
        assert response.status == 200, f"localstripe refused the webhook: {response.status}"


class Runtime:
    """Starts each part without a configured URL, and stops what it started in reverse order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_path = settings.data_path
        self._stops: list[Callable[[], None]] = []
        self._embedded: list[str] = []

    def start(self) -> Parts:
        self.data_path.mkdir(parents=True, exist_ok=True)
        gateway_url = f"http://{self.settings.host}:{self.settings.port}"
        metrics_port = self.settings.metrics_port or free_port()
        database_url = self._start_postgres()
        applied = asyncio.run(migrate(database_url))
        log.info("migrations applied", extra={"applied": applied})
        database_service_url = self.settings.database_service_url or service_url(database_url)
        service_password = urllib.parse.urlsplit(database_service_url).password
        if service_password:
            asyncio.run(set_service_password(database_url, service_password))
        redis_url = self._start_redis()
        stripe_api_base, stripe_api_key, webhook_secret = self._start_stripe(gateway_url)
        smtp_url = self._start_smtp()
        solana_directory = self.data_path / "solana"
        if not self.settings.solana_rpc_url:
            self._embedded.append("solana")
        ray_address = self._start_ray()
        parts = Parts(
            gateway_url=gateway_url,
            metrics_url=f"http://{self.settings.metrics_host}:{metrics_port}",
            database_url=database_url,
            database_service_url=database_service_url,
            redis_url=redis_url,
            ray_address=ray_address,
            stripe_api_base=stripe_api_base,
            stripe_api_key=stripe_api_key,
            stripe_webhook_secret=webhook_secret,
            access_secret=self.settings.access_secret
            or persistent_secret(self.data_path / "access_secret", ""),
            # production verifies public-key tokens only: no HS256 secret exists there
            jwt_secret=None
            if self.settings.is_production
            else self.settings.jwt_secret or persistent_secret(self.data_path / "jwt_secret", ""),
            embedded=list(self._embedded),
            smtp_url=smtp_url,
            solana_rpc_url=self.settings.solana_rpc_url,
            solana_directory=str(solana_directory),
            mint_authority_key=self.settings.solana_mint_authority_key
            or stored_authority_key(solana_directory / MINT_AUTHORITY_FILE_NAME),
            # it decides every custodial wallet and mint address: kept for good once generated
            custody_seed=self.settings.solana_custody_seed
            or persistent_secret(solana_directory / CUSTODY_SEED_FILE_NAME, ""),
        )
        write_runtime_file(self.data_path, parts)
        self._stops.append(lambda: (self.data_path / RUNTIME_FILE_NAME).unlink(missing_ok=True))
        return parts

    def stop(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:
                log.exception("a part did not stop cleanly")

    def _start_postgres(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        postgres = EmbeddedPostgres(self.data_path / "postgres")
        url = postgres.start()
        self._stops.append(postgres.stop)
        self._embedded.append("postgres")
        log.info("embedded postgres started", extra={"data_dir": str(self.data_path / "postgres")})
        return url

    def _start_redis(self) -> str:
        if self.settings.redis_url:
            return self.settings.redis_url
        redis = EmbeddedRedis(self.data_path / "redis")
        url = redis.start()
        self._stops.append(redis.stop)
        self._embedded.append("redis")
        log.info("embedded redis started", extra={"url": url})
        return url

    def _start_stripe(self, gateway_url: str) -> tuple[str | None, str, str]:
        settings = self.settings
        if settings.stripe_api_key:
            if not settings.stripe_webhook_secret:
                raise SettingsError(
                    [
                        "STRIPE_WEBHOOK_SECRET is missing: STRIPE_API_KEY is set, so webhooks "
                        "from that Stripe account must be verified with its secret"
                    ]
                )
            return settings.stripe_api_base, settings.stripe_api_key, settings.stripe_webhook_secret
        stripe_dir = self.data_path / "stripe"
        stripe = EmbeddedStripe(stripe_dir, free_port())
        api_base = stripe.start()
        self._stops.append(stripe.stop)
        self._embedded.append("stripe")
        webhook_secret = persistent_secret(stripe_dir / "webhook_secret", "whsec_")
        register_stripe_webhook(api_base, gateway_url, webhook_secret)
        log.info("embedded stripe started", extra={"api_base": api_base})
        return api_base, EMBEDDED_STRIPE_KEY, webhook_secret

    def _start_smtp(self) -> str:
        if self.settings.smtp_url:
            return self.settings.smtp_url
        sink = EmbeddedSmtpSink(self.data_path / "mail", free_port())
        url = sink.start()
        self._stops.append(sink.stop)
        self._embedded.append("smtp")
        log.info("embedded smtp sink started", extra={"url": url})
        return url

    def _start_ray(self) -> str:
        address = self.settings.ray_address
        ray.init(
            address=address or "local",
            namespace=RAY_NAMESPACE,
            include_dashboard=False,
            log_to_driver=False,
            object_store_memory=None if address else RAY_OBJECT_STORE_BYTES,
            resources=None if address else node_resources(),
        )
        self._stops.append(ray.shutdown)
        gcs_address = str(ray.get_runtime_context().gcs_address)
        if not address:
            self._embedded.append("ray")
            # Its servers listen where its node's address is: the loopback interface, as the
            # `onsale up` command asked Ray before importing it (gateway/cli.py).
            assert gcs_address.startswith(f"{LOOPBACK_ADDRESS}:"), (
                f"the embedded Ray cluster must listen on {LOOPBACK_ADDRESS} only: "
                f"{gcs_address}; Ray was imported before `onsale up` could ask for it"
            )
        return gcs_address


def pipeline_reader(loop: asyncio.AbstractEventLoop) -> Callable[[], dict[str, PipelineStats]]:
    """Each live event's figures for the private metrics port's thread, read on the gateway's
    event loop, where the Ray calls are made."""

    def read() -> dict[str, PipelineStats]:
        reading = asyncio.run_coroutine_threadsafe(pipeline_stats(), loop)
        return reading.result(timeout=limits.METRICS_SCRAPE_TIMEOUT_S)

    return read


async def serve_gateway(
    settings: Settings, parts: Parts, on_ready: Callable[[Parts], None]
) -> None:
    """Serve until SIGINT or SIGTERM; uvicorn drains connections and runs the app's shutdown.
    The private metrics port serves alongside, from a thread of its own."""
    config = uvicorn.Config(
        create_app(settings, parts),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    metrics_address = urllib.parse.urlsplit(parts.metrics_url)
    assert metrics_address.hostname is not None and metrics_address.port is not None
    metrics_server = serve_private_metrics(
        metrics_address.hostname,
        metrics_address.port,
        read_pipeline=pipeline_reader(asyncio.get_running_loop())
        if settings.metrics_event_labels
        else None,
    )
    try:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(SERVER_STARTED_POLL_S)
        if server.started:
            # What start-up built lives as long as the process: kept out of the collector's sight,
            # a full collection no longer walks every module, route and Ray object mid-sale.
            gc.freeze()
            on_ready(parts)
        await serving
    finally:
        await asyncio.to_thread(metrics_server.shutdown)
        metrics_server.server_close()
    if not server.started:
        raise RuntimeError(f"the gateway could not listen on {settings.host}:{settings.port}")


def run(settings: Settings, on_ready: Callable[[Parts], None]) -> None:
    """Start every part, serve until asked to stop, then stop every part.

    Our signal handlers go in again once the parts have started, because `ray.init` installs its
    own SIGTERM handler that exits at once.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    runtime = Runtime(settings)
    try:
        with stop_on_signals():
            parts = runtime.start()
        with stop_on_signals():
            uvloop.run(serve_gateway(settings, parts, on_ready))
    except StopRequested as request:
        log.info("stopping", extra={"signal": str(request)})
    finally:
        runtime.stop()
