"""The embedded Postgres: pgserver's PostgreSQL binaries run as our child, on a Unix socket only,
its data under one directory, so stopping and starting again on it keeps every row.

Whatever a crashed run left on the directory is stopped and replaced, never adopted: it is not
our child, so we could neither see it die nor wait for it, and it may run another version's
options (pgserver's `pg_ctl`). It is asked politely first (a fast shutdown checkpoints).
"""

import os
import pathlib
import pwd
import signal
import stat
import warnings

from embedded.child_processes import processes_working_in, stop_leftovers
from embedded.part import EmbeddedPart

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime directory at import, which warns wherever
    # XDG_RUNTIME_DIR is unset (containers, CI) before falling back to /tmp, as it should.
    warnings.simplefilter("ignore", UserWarning)
    import pgserver
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
        find_suitable_socket_dir,
    )

# Postgres refuses to run as root; pgserver runs it as this user then, and so do we.
POSTGRES_USER_WHEN_ROOT = "pgserver"
POSTGRES_LOG_FILE_NAME = "log"
POSTMASTER_PID_FILE_NAME = "postmaster.pid"
POSTMASTER_STATUS_LINE = 7
POSTMASTER_READY = "ready"
POSTGRES_SOCKET_LOCK_FILE_NAME = ".s.PGSQL.5432.lock"
# Every part of the node connects to it: the gateways' pools, the workers' and each live event
# actor's (up to two connections each), so more than Postgres's default of 100.
MAX_CONNECTIONS = 300
# pgserver's list of the processes using a server: stale once one of them died, never read now.
PGSERVER_HANDLE_FILE_NAME = ".handle_pids.json"


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
            # pgserver makes one function per binary when imported, so no type names them
            pgserver.initdb(  # type: ignore[attr-defined]
                ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"],
                pgdata=self._data_dir,
                user=user,
            )
        socket_dir = find_suitable_socket_dir(self._data_dir, PostgresServer.runtime_path)
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
                "-c",
                f"max_connections={MAX_CONNECTIONS}",
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
