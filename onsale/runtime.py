"""The embedded start: brings up every part that has no URL configured, then serves the gateway.

`onsale up` calls `run`. It first takes the data directory's lock (one run per directory; a run
that crashed lets go of it with its process). Parts start in order (Postgres, migrations, Redis,
Stripe, SMTP, Ray), a watcher starts again any embedded part that dies, the gateway serves until
SIGINT or SIGTERM, and the parts stop in reverse order, so the data directory is left consistent,
no process of the run is left, and a second start finds everything as it was. This module and the
app are the only readers of settings. Each embedded part's module is imported only as that part
starts: they need the `embedded` extra, which a production install, configuring every URL, lacks.
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
from collections.abc import Callable, Iterator
from types import FrameType
from typing import IO, TYPE_CHECKING

import ray
import uvicorn
import uvloop

from actors.cluster import pipeline_stats
from actors.inventory_figures import PipelineStats
from actors.names import NAMESPACE as RAY_NAMESPACE
from actors.placement import node_resources
from actors.worker_logs import worker_logging_runtime_env
from embedded.data_directory import lock_data_directory
from embedded.loopback import free_port
from embedded.part_watcher import PartWatcher
from embedded.runtime_file import RUNTIME_FILE_NAME, write_runtime_file
from engine import limits
from gateway.app import create_app
from gateway.metrics import serve_private_metrics
from gateway.parts import Parts
from gateway.settings import Settings, SettingsError
from onsale.extras import require_embedded_extra
from onsale.shared_secrets import resolve_shared_secrets
from persistence.migrate import migrate
from persistence.pool import service_url, set_service_password

if TYPE_CHECKING:
    from embedded.part import EmbeddedPart

RAY_OBJECT_STORE_BYTES = 512 * 1024 * 1024
EMBEDDED_STRIPE_KEY = "sk_test_onsale_embedded"
STRIPE_WEBHOOK_PATH = "/v1/webhooks/stripe"
SERVER_STARTED_POLL_S = 0.05
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
    """A secret generated once and kept in the data directory, so restarts keep it: for the parts
    one data directory embeds, never for what the system's processes share (shared_secrets)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = prefix + secrets.token_hex(24)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


class Runtime:
    """Starts each part without a configured URL, watches the embedded ones, and stops what it
    started in reverse order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_path = settings.data_path
        self._stops: list[Callable[[], None]] = []
        self._embedded: list[str] = []
        self._watched: list[EmbeddedPart] = []
        self._watcher: PartWatcher | None = None
        self._lock: IO[str] | None = None

    def start(self) -> Parts:
        require_embedded_extra(self.settings, "onsale up")
        self._lock = lock_data_directory(self.data_path)
        gateway_url = f"http://{self.settings.host}:{self.settings.port}"
        metrics_port = self.settings.metrics_port or free_port()
        database_url = self._start_postgres()
        applied = asyncio.run(migrate(database_url))
        log.info("migrations applied", extra={"applied": applied})
        database_service_url = self.settings.database_service_url or service_url(database_url)
        service_password = urllib.parse.urlsplit(database_service_url).password
        if service_password:
            asyncio.run(set_service_password(database_url, service_password))
        shared = resolve_shared_secrets(self.settings, database_url)
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
            access_secret=shared.access_secret,
            jwt_secret=shared.jwt_secret,
            embedded=list(self._embedded),
            smtp_url=smtp_url,
            solana_rpc_url=self.settings.solana_rpc_url,
            solana_directory=str(solana_directory),
            mint_authority_key=shared.mint_authority_key,
            custody_seed=shared.custody_seed,
        )
        self._watcher = PartWatcher(self._watched)
        self._watcher.start()
        write_runtime_file(self.data_path, parts)
        self._stops.append(lambda: (self.data_path / RUNTIME_FILE_NAME).unlink(missing_ok=True))
        return parts

    def parts_down(self) -> list[str]:
        """The embedded parts that died and have not answered again yet."""
        return [] if self._watcher is None else self._watcher.parts_down()

    def stop(self) -> bool:
        """Stop every part started, in reverse order; whether each stopped cleanly."""
        if self._watcher is not None:
            self._watcher.stop_restarting()
        cleanly = True
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:
                cleanly = False
                log.exception("a part did not stop cleanly")
        # Last: the parts it started again are its thread's children, and die with it.
        if self._watcher is not None:
            self._watcher.close()
        if self._lock is not None:
            self._lock.close()
        return cleanly

    def _embed(self, part: "EmbeddedPart") -> str:
        """Start an embedded part; it is watched, and stopped with the others."""
        address = part.start()
        self._stops.append(part.stop)
        self._watched.append(part)
        self._embedded.append(part.name)
        log.info("embedded part started", extra={"part": part.name, "address": address})
        return address

    def _start_postgres(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        from embedded.postgres_part import EmbeddedPostgres

        return self._embed(EmbeddedPostgres(self.data_path / "postgres"))

    def _start_redis(self) -> str:
        if self.settings.redis_url:
            return self.settings.redis_url
        from embedded.redis_part import EmbeddedRedis

        return self._embed(EmbeddedRedis(self.data_path / "redis"))

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
        from embedded.stripe_part import EmbeddedStripe, StripeWebhook

        stripe_dir = self.data_path / "stripe"
        webhook_secret = persistent_secret(stripe_dir / "webhook_secret", "whsec_")
        webhook = StripeWebhook(url=gateway_url + STRIPE_WEBHOOK_PATH, secret=webhook_secret)
        api_base = self._embed(EmbeddedStripe(stripe_dir, free_port(), webhook))
        return api_base, EMBEDDED_STRIPE_KEY, webhook_secret

    def _start_smtp(self) -> str:
        if self.settings.smtp_url:
            return self.settings.smtp_url
        from embedded.smtp_part import EmbeddedSmtpSink

        return self._embed(EmbeddedSmtpSink(self.data_path / "mail", free_port()))

    def _start_ray(self) -> str:
        address = self.settings.ray_address
        ray.init(
            address=address or "local",
            namespace=RAY_NAMESPACE,
            include_dashboard=False,
            # Actors' logs stay in their nodes' session directories (README, "Logs"): sent here,
            # Ray would prefix and deduplicate the lines (no longer JSON), send them only to the
            # gateway whose job made the actor, and carry every line across the cluster.
            log_to_driver=False,
            runtime_env=worker_logging_runtime_env(self.settings.log_level),
            object_store_memory=None if address else RAY_OBJECT_STORE_BYTES,
            resources=None if address else node_resources(),
        )
        self._stops.append(ray.shutdown)
        gcs_address = str(ray.get_runtime_context().gcs_address)
        if not address:
            self._embedded.append("ray")
            # Its servers listen where its node's address is: the loopback interface, as the
            # `onsale up` command asked Ray before importing it (onsale/cli.py).
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
        return reading.result(
            timeout=limits.METRICS_SCRAPE_TIMEOUT_MS / limits.MILLISECONDS_PER_SECOND
        )

    return read


async def serve_gateway(
    settings: Settings,
    parts: Parts,
    on_ready: Callable[[Parts], None],
    parts_down: Callable[[], list[str]],
) -> None:
    """Serve until SIGINT or SIGTERM; uvicorn drains connections and runs the app's shutdown.
    The private metrics port serves alongside, from a thread of its own."""
    config = uvicorn.Config(
        create_app(settings, parts, parts_down=parts_down),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        # The app works out the client's address itself (ONSALE_TRUSTED_PROXIES); uvicorn's
        # own rewriting of it from X-Forwarded-For, on by default for 127.0.0.1, would be a
        # second rule applied first.
        proxy_headers=False,
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
        # uvicorn's Server says it started through a plain flag, with no event to wait on
        while not server.started and not serving.done():  # noqa: ASYNC110
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


def run(settings: Settings, on_ready: Callable[[Parts], None]) -> bool:
    """Start every part, serve until asked to stop, then stop every part; whether every part
    stopped cleanly.

    Our signal handlers go in again once the parts have started, because `ray.init` installs its
    own SIGTERM handler that exits at once.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    runtime = Runtime(settings)
    try:
        with stop_on_signals():
            parts = runtime.start()
        with stop_on_signals():
            uvloop.run(serve_gateway(settings, parts, on_ready, runtime.parts_down))
    except StopRequested as request:
        log.info("stopping", extra={"signal": str(request)})
    finally:
        stopped_cleanly = runtime.stop()
    return stopped_cleanly
