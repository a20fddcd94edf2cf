"""A clock for actor tests that stands still until the test moves it: the time is read from a file
the test writes, so an actor in another process (imported by Ray from this project) sees it."""

import os
import pathlib
import time


class FileClock:
    """Picklable: Ray ships it to the actor, which calls it for `now_ms`."""

    def __init__(self, path: pathlib.Path, now_ms: int | None = None) -> None:
        self.path = str(path)
        self.set(time.time_ns() // 1_000_000 if now_ms is None else now_ms)

    def __call__(self) -> int:
        return int(pathlib.Path(self.path).read_text())

    def set(self, now_ms: int) -> None:
        """Replace the time in one rename, so a reader never sees a half-written number."""
        written = pathlib.Path(f"{self.path}.next")
        written.write_text(str(now_ms))
        os.replace(written, self.path)

    def advance(self, milliseconds: int) -> None:
        self.set(self() + milliseconds)
