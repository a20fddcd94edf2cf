"""Where a ticket is: inside each zone or not, how often it was admitted there, when it last went
out; and the one rule that moves it through a gate of a zone, in or out.

Presence is kept per zone, the main entrance being a zone of its own (`MAIN_ENTRANCE`), so going
out of VIP leaves a ticket inside the venue, and its re-entries are counted zone by zone. The
cooldown counts from the last time the ticket went out of that zone: it keeps a ticket from being
passed back over the barrier to a friend, which is a matter of how long it has been outside.
"""

import enum
from collections.abc import Iterable, Mapping

import msgspec

from engine.admission import ScanReason
from engine.entry.policy import Reentry
from engine.ids import ZoneId
from engine.tickets import TicketStatus

MAIN_ENTRANCE: ZoneId = ""


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class ZonePresence(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket's presence in one zone; `entries` counts its admissions there, so it has
    re-entered `entries - 1` times."""

    inside: bool = False
    entries: int = 0
    last_out_at_ms: int | None = None


NEVER_ENTERED = ZonePresence()


def presence_zone(gate_zone: ZoneId | None) -> ZoneId:
    """The zone whose presence a gate changes: its own, or the main entrance's."""
    return MAIN_ENTRANCE if gate_zone is None else gate_zone


def known_presence(
    status: TicketStatus, presence: Mapping[ZoneId, ZonePresence]
) -> Mapping[ZoneId, ZonePresence]:
    """The presence to decide with. A ticket checked in with no zone on record (before presence
    was kept) was admitted somewhere: taken as inside the main entrance, so it is not admitted
    there again."""
    if status is TicketStatus.CHECKED_IN and not any(zone.entries for zone in presence.values()):
        return {**presence, MAIN_ENTRANCE: ZonePresence(inside=True, entries=1)}
    return presence


def cross_gate(
    reentry: Reentry, presence: ZonePresence, direction: Direction, at_ms: int
) -> ZonePresence | ScanReason:
    """The ticket's presence in the zone after it goes through the gate, or why it may not."""
    if direction is Direction.OUT:
        if not reentry.enabled:
            return ScanReason.REENTRY_DISABLED
        if not presence.inside:
            return ScanReason.NOT_INSIDE
        return ZonePresence(inside=False, entries=presence.entries, last_out_at_ms=at_ms)
    if presence.entries and not reentry.enabled:
        return ScanReason.ALREADY_CHECKED_IN
    if presence.inside:
        return ScanReason.ALREADY_INSIDE
    if presence.entries > reentry.max_reentries:
        return ScanReason.REENTRY_LIMIT
    last_out_at_ms = presence.last_out_at_ms
    if last_out_at_ms is not None and at_ms - last_out_at_ms < reentry.cooldown_ms:
        return ScanReason.REENTRY_COOLDOWN
    return ZonePresence(inside=True, entries=presence.entries + 1, last_out_at_ms=last_out_at_ms)


class RecordedPassage(msgspec.Struct, frozen=True, kw_only=True):
    """An admitted scan as it is kept: its zone, its direction, the ticket's entry to the zone it
    makes or ends, and when."""

    zone: ZoneId
    direction: Direction
    entry_number: int
    scanned_at_ms: int


def presence_after(passages: Iterable[RecordedPassage]) -> dict[ZoneId, ZonePresence]:
    """The presence a ticket's admitted scans leave, taken in the order they were made: where
    the last passage of each zone left it, and when it last went out of each."""
    presence: dict[ZoneId, ZonePresence] = {}
    for passage in passages:
        before = presence.get(passage.zone, NEVER_ENTERED)
        going_out = passage.direction is Direction.OUT
        presence[passage.zone] = ZonePresence(
            inside=not going_out,
            entries=passage.entry_number,
            last_out_at_ms=passage.scanned_at_ms if going_out else before.last_out_at_ms,
        )
    return presence
