"""The Supervisor's watchdog: every round it looks at each running per-event actor and restarts
one that has stopped moving, so no event hangs until a person notices.

An actor is stuck when it does not answer within WATCHDOG_CALL_TIMEOUT_MS, or when requests have
waited ACTOR_STALLED_MAX_MS with none answered (its own count, `stalled_for_ms`). A stuck actor is
killed with restarting allowed: Ray starts it again, and it rebuilds from Postgres, as after any
crash. An actor that is dead or restarting is Ray's to bring back, not the watchdog's.
"""

import logging

import msgspec
import ray
from ray.actor import ActorHandle

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.inventory_actor import InventoryActor
from actors.inventory_figures import PipelineStats
from actors.waiting_room_actor import WaitingRoomActor
from engine import limits

CALL_TIMEOUT_S = limits.WATCHDOG_CALL_TIMEOUT_MS / 1_000
log = logging.getLogger(__name__)


class Checked(msgspec.Struct, frozen=True, kw_only=True):
    """What one look at an actor found: its figures when it answered, and whether it was
    restarted for being stuck."""

    stats: PipelineStats | None = None
    restarted: bool = False


def restart(
    handle: ActorHandle[InventoryActor] | ActorHandle[WaitingRoomActor], actor: str, why: str
) -> Checked:
    log.error("an actor is stuck; restarting it", extra={"actor": actor, "why": why})
    ray.kill(handle, no_restart=False)
    return Checked(restarted=True)


async def check_inventory(handle: ActorHandle[InventoryActor], actor: str) -> Checked:
    """The InventoryActor's figures, or its restart when it is stuck."""
    try:
        stats: PipelineStats = await actor_answer(handle.stats.remote(), timeout_s=CALL_TIMEOUT_S)
    except TimeoutError:
        return restart(handle, actor, f"no answer in {CALL_TIMEOUT_S:.0f} s")
    except ACTOR_CALL_ERRORS:
        return Checked()
    if stats.stalled_for_ms > limits.ACTOR_STALLED_MAX_MS:
        return restart(handle, actor, f"requests waited {stats.stalled_for_ms} ms, none answered")
    return Checked(stats=stats)


async def check_waiting_room(handle: ActorHandle[WaitingRoomActor], actor: str) -> Checked:
    """Start the WaitingRoomActor if Ray restarted it (it must tick), or restart it when stuck."""
    try:
        await actor_answer(handle.ready.remote(), timeout_s=CALL_TIMEOUT_S)
        stalled_for_ms: int = await actor_answer(
            handle.stalled_for_ms.remote(), timeout_s=CALL_TIMEOUT_S
        )
    except TimeoutError:
        return restart(handle, actor, f"no answer in {CALL_TIMEOUT_S:.0f} s")
    except ACTOR_CALL_ERRORS:
        return Checked()
    if stalled_for_ms > limits.ACTOR_STALLED_MAX_MS:
        return restart(handle, actor, f"its inbox waited {stalled_for_ms} ms, nothing served")
    return Checked()
