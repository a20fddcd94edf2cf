"""How each Ray worker process of the system logs: JSON on its stderr, as the gateway does
(actors.json_logs), every line naming the actor the process runs and, for an event's actor, the
event. Ray keeps a worker's stderr as `worker-*.err` in its node's session log directory (README,
"Logs").

Every `ray.init` of the system passes `worker_logging_runtime_env`: Ray runs `WORKER_SETUP_HOOK`
in each worker process of the job before its actor is made, on every node, one started by
`ray start` too. The hook is named by its import path, so each worker imports it itself; a function
object would be fetched from the GCS, where it is kept under the job that sent it, while a
detached actor outlives that job. The gateway's log level travels in the job's environment.
"""

import os
from collections.abc import Callable, Mapping

import ray

from actors.json_logs import NO_FIELDS, log_json_to_stderr
from actors.names import event_of_actor

LOG_LEVEL_VARIABLE = "ONSALE_LOG_LEVEL"
DEFAULT_LOG_LEVEL = "INFO"


def actor_fields(name: str) -> dict[str, object]:
    """What every line of the actor named `name` carries."""
    fields: dict[str, object] = {"actor": name}
    event_id = event_of_actor(name)
    if event_id is not None:
        fields["event_id"] = event_id
    return fields


def running_actor_name() -> str | None:
    name: str | None = ray.get_runtime_context().get_actor_name()
    return name or None


class ActorContext:
    """The fields of the actor this process runs, once Ray has given it one. A worker process
    runs one actor for its whole life, so they are kept as soon as they are known; lines logged
    before (while the worker imports what the actor needs) have none."""

    def __init__(self, actor_name: Callable[[], str | None] = running_actor_name) -> None:
        self._actor_name = actor_name
        self._fields: Mapping[str, object] | None = None

    def __call__(self) -> Mapping[str, object]:
        if self._fields is None:
            name = self._actor_name()
            if name is None:
                return NO_FIELDS
            self._fields = actor_fields(name)
        return self._fields


def configure_worker_logging() -> None:
    """The hook Ray runs as each worker process starts."""
    log_json_to_stderr(os.environ.get(LOG_LEVEL_VARIABLE, DEFAULT_LOG_LEVEL), ActorContext())


WORKER_SETUP_HOOK = f"{__name__}.{configure_worker_logging.__name__}"


def worker_logging_runtime_env(log_level: str, **env_vars: str) -> dict[str, object]:
    """The job's runtime environment for `ray.init`: its workers log JSON at `log_level`, with
    `env_vars` set in them besides."""
    return {
        "worker_process_setup_hook": WORKER_SETUP_HOOK,
        "env_vars": {**env_vars, LOG_LEVEL_VARIABLE: log_level},
    }
