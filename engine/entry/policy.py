"""An event's entry policy: its zones, the zones each one includes, and whether a ticket may go out
and come back in.

Inclusion is transitive (BACKSTAGE includes VIP, which includes GA: a BACKSTAGE ticket enters all
three) and so must be free of cycles. The checks return every problem at once, by the field at
fault in the API's names (`entry.zones[1].includes`, `entry.reentry.cooldown_s`); a new setting
gets its bounds in engine.limits and its check here.
"""

from collections.abc import Mapping

import msgspec

from engine import limits
from engine.ids import ZoneId
from engine.limits import MILLISECONDS_PER_SECOND
from engine.rejections import Reason, Rejected


class Zone(msgspec.Struct, frozen=True, kw_only=True):
    """An area behind gates of its own; a ticket of this zone may also enter every zone it
    `includes`, and every zone those include."""

    zone_id: ZoneId
    includes: tuple[ZoneId, ...] = ()


class Reentry(msgspec.Struct, frozen=True, kw_only=True):
    """Whether a ticket that went out of a zone may come back in: at least `cooldown_ms` after it
    went out, and at most `max_reentries` times in each zone."""

    enabled: bool = False
    cooldown_ms: int = 0
    max_reentries: int = limits.REENTRIES_PER_ZONE_MAX


class EntryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """The default, an event's policy until it sets one, has no zones and no re-entry: a ticket
    is admitted once, at the main entrance."""

    zones: tuple[Zone, ...] = ()
    reentry: Reentry = msgspec.field(default_factory=Reentry)


def entry_policy_problems(policy: EntryPolicy) -> dict[str, str]:
    """What is wrong with the policy, by the field at fault."""
    return _zone_problems(policy.zones) | _reentry_problems(policy.reentry)


def validate_entry_policy(policy: EntryPolicy) -> Rejected | None:
    """VALIDATION_ERROR naming the first field at fault (and every problem), or None."""
    problems = entry_policy_problems(policy)
    if not problems:
        return None
    field, message = next(iter(problems.items()))
    return Rejected(
        reason=Reason.VALIDATION_ERROR,
        message=message,
        details={"field": field, "problems": problems},
    )


def has_zone(policy: EntryPolicy, zone_id: ZoneId) -> bool:
    return any(zone.zone_id == zone_id for zone in policy.zones)


def ticket_type_zone_problem(policy: EntryPolicy, zone: ZoneId | None) -> str | None:
    """Why a ticket type cannot carry `zone` under the policy, or None (no zone is always fine)."""
    if zone is None or has_zone(policy, zone):
        return None
    return f"zone {zone!r} is not a zone of this event's entry policy"


def scan_zone_problem(policy: EntryPolicy, zone: ZoneId | None) -> Rejected | None:
    """VALIDATION_ERROR when a scan names a gate zone the event does not have: the caller's
    error, which the HTTP layer answers before it decides anything."""
    if zone is None or has_zone(policy, zone):
        return None
    return Rejected(
        reason=Reason.VALIDATION_ERROR,
        message=f"zone {zone!r} is not a zone of this event",
        details={"field": "zone"},
    )


def reachable_zones(policy: EntryPolicy, zone: ZoneId) -> frozenset[ZoneId]:
    """The zones a ticket of `zone` may enter: itself and everything it includes, transitively.
    A zone the policy does not know reaches only itself."""
    includes = _includes_by_zone(policy)
    reached = {zone}
    waiting = [zone]
    while waiting:
        for included in includes.get(waiting.pop(), ()):
            if included not in reached:
                reached.add(included)
                waiting.append(included)
    return frozenset(reached)


def zone_closure(policy: EntryPolicy) -> dict[ZoneId, frozenset[ZoneId]]:
    """Every zone of the policy with the zones its tickets may enter."""
    return {zone.zone_id: reachable_zones(policy, zone.zone_id) for zone in policy.zones}


def may_pass(policy: EntryPolicy, ticket_zone: ZoneId | None, gate_zone: ZoneId | None) -> bool:
    """Whether a ticket of `ticket_zone` may pass a gate of `gate_zone`. A gate without a zone is
    the main entrance, which every ticket passes; a ticket without a zone passes only there."""
    if gate_zone is None:
        return True
    if ticket_zone is None:
        return False
    return gate_zone in reachable_zones(policy, ticket_zone)


def _includes_by_zone(policy: EntryPolicy) -> dict[ZoneId, tuple[ZoneId, ...]]:
    return {zone.zone_id: zone.includes for zone in policy.zones}


def _zone_problems(zones: tuple[Zone, ...]) -> dict[str, str]:
    problems: dict[str, str] = {}
    if len(zones) > limits.ZONES_PER_EVENT_MAX:
        problems["entry.zones"] = f"an event has at most {limits.ZONES_PER_EVENT_MAX} zones"
    known = {zone.zone_id for zone in zones}
    seen: set[ZoneId] = set()
    for index, zone in enumerate(zones):
        field = f"entry.zones[{index}]"
        if not 1 <= len(zone.zone_id) <= limits.ZONE_ID_CHARACTERS_MAX:
            problems[f"{field}.id"] = (
                f"a zone id has 1 to {limits.ZONE_ID_CHARACTERS_MAX} characters"
            )
        elif zone.zone_id in seen:
            problems[f"{field}.id"] = f"zone id {zone.zone_id!r} is given twice"
        seen.add(zone.zone_id)
        unknown = [name for name in zone.includes if name not in known]
        if unknown:
            problems[f"{field}.includes"] = (
                f"{zone.zone_id!r} includes {unknown[0]!r}, which is not a zone of this event"
            )
    cycle = _inclusion_cycle({zone.zone_id: zone.includes for zone in zones})
    if cycle and "entry.zones" not in problems:
        problems["entry.zones"] = (
            f"zones may not include each other in a cycle: {' → '.join(cycle)}"
        )
    return problems


def _inclusion_cycle(includes: Mapping[ZoneId, tuple[ZoneId, ...]]) -> list[ZoneId]:
    """One cycle of inclusions, as the path that closes it (`A → B → A`), or [] when none."""
    finished: set[ZoneId] = set()
    for start in includes:
        path: list[ZoneId] = []
        on_path: set[ZoneId] = set()
        stack: list[tuple[ZoneId, int]] = [(start, 0)]
        while stack:
            zone, next_index = stack.pop()
            if next_index == 0:
                if zone in on_path:
                    return [*path[path.index(zone) :], zone]
                if zone in finished:
                    continue
                path.append(zone)
                on_path.add(zone)
            children = includes.get(zone, ())
            if next_index < len(children):
                stack.append((zone, next_index + 1))
                stack.append((children[next_index], 0))
            else:
                path.pop()
                on_path.discard(zone)
                finished.add(zone)
    return []


def _reentry_problems(reentry: Reentry) -> dict[str, str]:
    problems: dict[str, str] = {}
    cooldown_s_bounds = (limits.REENTRY_COOLDOWN_S_MIN, limits.REENTRY_COOLDOWN_S_MAX)
    if not (
        cooldown_s_bounds[0] * MILLISECONDS_PER_SECOND
        <= reentry.cooldown_ms
        <= cooldown_s_bounds[1] * MILLISECONDS_PER_SECOND
        and reentry.cooldown_ms % MILLISECONDS_PER_SECOND == 0
    ):
        problems["entry.reentry.cooldown_s"] = (
            f"cooldown_s must be whole seconds between {cooldown_s_bounds[0]} and "
            f"{cooldown_s_bounds[1]}"
        )
    if not limits.REENTRIES_PER_ZONE_MIN <= reentry.max_reentries <= limits.REENTRIES_PER_ZONE_MAX:
        problems["entry.reentry.max_reentries"] = (
            f"max_reentries must be between {limits.REENTRIES_PER_ZONE_MIN} and "
            f"{limits.REENTRIES_PER_ZONE_MAX}"
        )
    return problems
