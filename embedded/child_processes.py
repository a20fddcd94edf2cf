"""The child processes of the embedded runtime: how one starts, stops, and is found again when a run
that crashed left it behind.

Every embedded part starts through `start_child`: in a session of its own, so a Ctrl-C meant for
`onsale up` reaches the runtime alone and the parts stop in order, and (on Linux) bound to die with
the thread that started it, so a `kill -9` of the runtime takes its parts along. A part is found
again by what it cannot hide (its working directory, or the data path in its command line), never
by a pid file alone, so a stale file or a reused pid is never believed.
"""

import contextlib
import ctypes
import logging
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import psutil

from engine import limits

PR_SET_PDEATHSIG = 1
STOP_POLL_S = 0.05
log = logging.getLogger(__name__)


def load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return prctl


PRCTL = load_prctl()


def dies_with_parent(death_signal: signal.Signals) -> Callable[[], None]:
    """Run in the child between fork and exec: it gets `death_signal` once the thread that forked
    it is gone, and at once if that thread went before the binding took."""
    parent_pid = os.getpid()

    def bind() -> None:
        if PRCTL is None:
            return
        PRCTL(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), death_signal)

    return bind


def start_child(
    command: Sequence[str],
    *,
    log_path: pathlib.Path,
    death_signal: signal.Signals,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start `command` with its output appended to `log_path`, from a thread that outlives the
    child (the main thread, or the runtime's watcher): the child dies with that thread."""
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
            preexec_fn=dies_with_parent(death_signal),
            user=user,
        )


def is_running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_processes(
    processes: Sequence[psutil.Process],
    polite_signal: signal.Signals,
    timeout_s: float = limits.EMBEDDED_PART_STOP_TIMEOUT_MS / 1_000,
) -> None:
    """Send `polite_signal`, wait up to `timeout_s` for them to leave, then kill what is left."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(polite_signal)
    deadline = time.monotonic() + timeout_s
    while any(is_running(process) for process in processes) and time.monotonic() < deadline:
        time.sleep(STOP_POLL_S)
    for process in processes:
        if is_running(process):
            log.warning("a part did not stop in time and is killed", extra={"pid": process.pid})
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
    psutil.wait_procs(list(processes), timeout=timeout_s)


def stop_child(
    child: subprocess.Popen[bytes],
    polite_signal: signal.Signals,
    timeout_s: float = limits.EMBEDDED_PART_STOP_TIMEOUT_MS / 1_000,
) -> None:
    """Stop a child of ours, and reap it."""
    if child.poll() is None:
        with contextlib.suppress(psutil.NoSuchProcess):
            stop_processes([psutil.Process(child.pid)], polite_signal, timeout_s)
    child.wait()


def same_path(candidate: str | None, path: pathlib.Path) -> bool:
    if not candidate:
        return False
    # A directory deleted under a running process reads back as "<path> (deleted)".
    return os.path.realpath(candidate.removesuffix(" (deleted)")) == os.path.realpath(path)


def processes_working_in(directory: pathlib.Path, name: str) -> list[psutil.Process]:
    """Every process called `name` whose working directory is `directory`: a server keeps its
    data directory as its working directory (Postgres and Redis both change into it)."""
    found = []
    for process in psutil.process_iter(["name", "cwd"], ad_value=None):
        if process.info["name"] == name and same_path(process.info["cwd"], directory):
            found.append(process)
    return found


def processes_running(module: str, path: pathlib.Path) -> list[psutil.Process]:
    """Every Python process running `module` with `path` among its arguments."""
    found = []
    for process in psutil.process_iter(["cmdline"], ad_value=None):
        arguments = process.info["cmdline"] or []
        if module in arguments and any(same_path(argument, path) for argument in arguments):
            found.append(process)
    return found


def stop_leftovers(
    part: str, processes: Sequence[psutil.Process], polite_signal: signal.Signals
) -> None:
    """Stop what an earlier run of a part left running, saying so."""
    processes = [process for process in processes if process.pid != os.getpid()]
    if not processes:
        return
    log.warning(
        "a leftover of an earlier run is stopped before the part starts again",
        extra={"part": part, "pids": [process.pid for process in processes]},
    )
    stop_processes(processes, polite_signal)
