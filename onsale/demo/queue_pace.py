"""When a fan in the queue polls their place again: after the opening for a fan who queued
before it, else at the pace of the ETA, less often while the queue does not move, and never more
than a minute apart. Every poll is gateway and driver CPU that the sale itself needs.

The room's ETA assumes it admits `admit_per_second`; while its shoppers are at the cap it admits
only as fast as they leave, so a fan also times their turn by how fast their own place moved.
"""

from typing import Any

POLL_INTERVAL_MIN_S = 1.0
# Every poll costs the gateway about 1 ms of CPU and the driver 0.5 ms, taken from the sale:
# a fan far from the door polls about when the ETA says its turn comes, and at least this often,
# to hear of the sell-out (polling every 2 s, 16,000 waiting fans would need 8,000 polls a second).
POLL_INTERVAL_MAX_S = 60.0
POLL_ETA_SHARE = 0.8
STALLS_COUNTED_MAX = 6
POLL_JITTER = 0.2
OPENING_SPREAD_S = 3.0


def poll_delay_s(
    *,
    state: str,
    eta_s: int | None,
    seconds_to_open: float,
    jitter: float,
    stalls: int = 0,
    observed_eta_s: float | None = None,
) -> float:
    """When to poll again: just after the opening for a pre-queued fan, else a share of the ETA
    (the room's, or the one the fan's own progress gives, whichever is later), doubled for each
    poll in a row that found the fan no nearer the door (`stalls`), always within
    POLL_INTERVAL_MIN_S..POLL_INTERVAL_MAX_S. `jitter` is drawn from 0..1."""
    if state == "pre_queue":
        delay = seconds_to_open + jitter * OPENING_SPREAD_S
    elif eta_s is None:
        delay = POLL_INTERVAL_MIN_S + jitter * OPENING_SPREAD_S
    else:
        eta = max(float(eta_s), observed_eta_s or 0.0)
        delay = eta * POLL_ETA_SHARE * (1 - POLL_JITTER + 2 * POLL_JITTER * jitter)
    delay = max(POLL_INTERVAL_MIN_S, delay) * 2 ** min(stalls, STALLS_COUNTED_MAX)
    return min(POLL_INTERVAL_MAX_S, delay)


def is_stalled(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """A waiting fan's poll found them no nearer the door than the poll before."""
    ahead_before, ahead_now = before.get("position"), after.get("position")
    waiting = before["state"] == after["state"] == "waiting"
    return (
        waiting
        and ahead_before is not None
        and ahead_now is not None
        and (ahead_now >= ahead_before)
    )


def observed_eta_s(before: dict[str, Any], after: dict[str, Any], elapsed_s: float) -> float | None:
    """Seconds to the door at the pace the fan's place moved between two polls; None when it did
    not move closer (or the fan is no longer waiting)."""
    ahead_before, ahead_now = before.get("position"), after.get("position")
    waiting = before["state"] == after["state"] == "waiting"
    if not waiting or ahead_before is None or ahead_now is None or ahead_now >= ahead_before:
        return None
    return ahead_now * elapsed_s / (ahead_before - ahead_now)
