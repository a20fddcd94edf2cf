"""Each request's deadline: the moment, on this process's monotonic clock, by which its work must
end for it to be answered within its budget (engine/limits.py, "Requests"). The request context
sets it as a request comes in; whatever the request waits on takes only the time left. The parts
below the gateway know nothing of requests: the composition root hands them `current_deadline_s`.
"""

import contextvars

from engine import limits
from engine.limits import MILLISECONDS_PER_SECOND

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

request_deadline_s: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "request_deadline_s", default=None
)


def budget_ms(method: str) -> int:
    """How long a request of this method may take: a read less than a change."""
    return limits.READ_BUDGET_MS if method in READ_METHODS else limits.REQUEST_BUDGET_MS


def deadline_s_of(method: str, *, started_s: float) -> float:
    """The deadline of a request of `method` that came in at `started_s` (monotonic)."""
    work_ms = budget_ms(method) - limits.ANSWER_RESERVE_MS
    return started_s + work_ms / MILLISECONDS_PER_SECOND


def current_deadline_s() -> float | None:
    """The deadline of the request being served; None outside a request."""
    return request_deadline_s.get()
