"""One embedded part served by one child process of ours: started, waited for until it answers,
seen dying, and stopped without leaving a process behind; every part (embedded/*_part.py) is one.

A part answers `has_died` and starts again on the same address and data (the runtime's watcher
does it); `stop` leaves no process of it.
"""

import abc
import pathlib
import signal
import subprocess
import time
from collections.abc import Callable

from embedded.child_processes import start_child, stop_child
from engine import limits

READY_POLL_S = 0.05
# How long one look at a starting part (a PING, an HTTP GET) may take.
PROBE_TIMEOUT_S = 1.0
LOG_TAIL_CHARACTERS = 2_000


class PartDidNotStart(Exception):
    """An embedded part exited or did not answer in time; the message says which and where its
    log is."""


def log_tail(path: pathlib.Path) -> str:
    try:
        return path.read_text(errors="replace")[-LOG_TAIL_CHARACTERS:]
    except FileNotFoundError:
        return "(no log)"


class EmbeddedPart(abc.ABC):
    """One part served by one child process of ours."""

    name = "part"
    stop_signal = signal.SIGTERM

    def __init__(self, log_path: pathlib.Path) -> None:
        self._log_path = log_path
        self._child: subprocess.Popen[bytes] | None = None

    @abc.abstractmethod
    def start(self) -> str:
        """Start the child (again, after it died) and wait until it answers; its address."""

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
