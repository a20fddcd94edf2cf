"""The embedded SMTP sink's directory, as the demo counts it: messages that arrived since a moment.

The sink names each message `<arrival ns>-<random>.eml`, so messages of earlier runs in the same
data directory are told apart by name alone, without reading them.
"""

import os
import pathlib

MESSAGE_SUFFIX = ".eml"


def arrival_ns(name: str) -> int | None:
    if not name.endswith(MESSAGE_SUFFIX):
        return None
    prefix = name.partition("-")[0]
    return int(prefix) if prefix.isdigit() else None


class Mailbox:
    def __init__(self, directory: pathlib.Path | None, since_ns: int) -> None:
        self._directory = directory
        self._since_ns = since_ns

    def count(self) -> int:
        """Messages that arrived since `since_ns`; 0 without a sink directory."""
        if self._directory is None or not self._directory.is_dir():
            return 0
        with os.scandir(self._directory) as entries:
            return sum(
                1
                for entry in entries
                if (arrived := arrival_ns(entry.name)) is not None and arrived >= self._since_ns
            )
