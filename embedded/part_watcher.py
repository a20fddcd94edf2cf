"""The embedded runtime's watcher: a thread that looks at every embedded part each check interval
and starts again, on the same address and data, any part that has died, logging the death and the
restart. A start that fails is tried again after a doubling backoff, never given up. While a part
is down, `parts_down` names it, and the gateway's readiness reports it.

A restarted part is a child of this thread and (on Linux) dies with it, so the thread lives until
`close`, which the runtime calls once every part has stopped.
"""

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from engine import limits

log = logging.getLogger(__name__)


class WatchedPart(Protocol):
    name: str

    def start(self) -> str: ...

    def has_died(self) -> bool: ...

    def exit_code(self) -> int | None: ...


class Outage:
    """A part that died and has not started again yet."""

    def __init__(self, now_s: float) -> None:
        self.since_s = now_s
        self.next_attempt_s = now_s
        self.backoff_ms = limits.EMBEDDED_PART_CHECK_INTERVAL_MS


class PartWatcher:
    def __init__(self, parts: Sequence[WatchedPart]) -> None:
        self._parts = list(parts)
        self._outages: dict[str, Outage] = {}
        self._restarting = True
        # Held while a part starts again, so a stop never races a restart.
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="embedded-part-watcher")

    def start(self) -> None:
        self._thread.start()

    def parts_down(self) -> list[str]:
        """The parts that have died and not yet answered again."""
        return [part.name for part in self._parts if part.name in self._outages or part.has_died()]

    def stop_restarting(self) -> None:
        """From now on a part that dies stays down: the runtime is stopping them all."""
        with self._lock:
            self._restarting = False

    def close(self) -> None:
        self.stop_restarting()
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        while not self._closed.wait(limits.EMBEDDED_PART_CHECK_INTERVAL_MS / 1_000):
            with self._lock:
                if not self._restarting:
                    continue
                for part in self._parts:
                    self._look_at(part)

    def _look_at(self, part: WatchedPart) -> None:
        now_s = time.monotonic()
        outage = self._outages.get(part.name)
        if outage is None:
            if not part.has_died():
                return
            log.error(
                "an embedded part died; it is started again",
                extra={"part": part.name, "exit_code": part.exit_code()},
            )
            outage = self._outages[part.name] = Outage(now_s)
        if now_s < outage.next_attempt_s:
            return
        try:
            part.start()
        except Exception:
            outage.next_attempt_s = now_s + outage.backoff_ms / 1_000
            log.exception(
                "an embedded part did not start again; it is tried again later",
                extra={"part": part.name, "retry_in_ms": outage.backoff_ms},
            )
            outage.backoff_ms = min(
                2 * outage.backoff_ms, limits.EMBEDDED_PART_RESTART_BACKOFF_MAX_MS
            )
            return
        del self._outages[part.name]
        log.warning(
            "an embedded part was started again",
            extra={
                "part": part.name,
                "down_ms": round((time.monotonic() - outage.since_s) * 1_000),
            },
        )
