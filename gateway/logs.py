"""The gateway's logs: JSON on stderr (actors.json_logs), each line carrying the request id of the
request being served, and uvicorn's own loggers folded into them.

Service code logs through `logging` only; this module owns the request-id context.
"""

import contextvars
import logging
from collections.abc import Mapping

from actors.json_logs import NO_FIELDS, log_json_to_stderr

request_id_context: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


def request_context() -> Mapping[str, object]:
    """The fields of the request being served: its id, when there is one."""
    request_id = request_id_context.get()
    return NO_FIELDS if request_id is None else {"request_id": request_id}


def configure_logging(level: str) -> None:
    log_json_to_stderr(level, request_context)
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
