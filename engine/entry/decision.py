"""What a gate decides about one scan under its event's entry policy: let the ticket through, in
or out of the gate's zone, or refuse it with a reason.

The order is fixed and is the order a refusal is told: the code's verdict, then the ticket's
status (as engine.admission decides them), then the gate's zone, then the ticket's presence in
it. A checked-in ticket is not refused for its status here: it was admitted somewhere, and its
presence says whether this gate may let it through. Its first admission anywhere checks it in.
"""

from collections.abc import Mapping

import msgspec

from engine.admission import STATUS_REFUSALS, VERDICT_REFUSALS, ScanReason
from engine.entry.policy import EntryPolicy, has_zone, may_pass
from engine.entry.presence import (
    NEVER_ENTERED,
    Direction,
    ZonePresence,
    cross_gate,
    known_presence,
    presence_zone,
)
from engine.ids import ZoneId
from engine.ticket_qr import QrVerdict
from engine.tickets import TRANSITIONS, TicketAction, TicketMoved, TicketStatus, move_ticket

ENTRY_STATUS_REFUSALS: dict[TicketStatus, ScanReason | None] = {
    **STATUS_REFUSALS,
    TicketStatus.CHECKED_IN: None,
}
assert {status for status, refusal in ENTRY_STATUS_REFUSALS.items() if refusal is None} == {
    status for status, moves in TRANSITIONS.items() if TicketAction.CHECK_IN in moves
} | {TicketStatus.CHECKED_IN}, "a status reaches the gate when it can check in or already has"


# The reasons decided on the ticket's row under the entry policy, which a later scan made earlier
# can change; any other refusal (the code, the door window, the ticket's issue) is final.
REPLAYED_REASONS = frozenset(
    {refusal for refusal in ENTRY_STATUS_REFUSALS.values() if refusal is not None}
    | {
        ScanReason.UNKNOWN_ZONE,
        ScanReason.WRONG_ZONE,
        ScanReason.ALREADY_CHECKED_IN,
        ScanReason.ALREADY_INSIDE,
        ScanReason.NOT_INSIDE,
        ScanReason.REENTRY_DISABLED,
        ScanReason.REENTRY_LIMIT,
        ScanReason.REENTRY_COOLDOWN,
    }
)


class GateScan(msgspec.Struct, frozen=True, kw_only=True):
    """One scan at a gate: the gate's zone (None at the main entrance) and which way it lets
    the ticket through."""

    zone: ZoneId | None = None
    direction: Direction = Direction.IN
    scanned_at_ms: int


class Passage(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket let through: `presence` is its presence in `zone` (`MAIN_ENTRANCE` for the main
    entrance) after the scan, and `moved` its check-in when this is its first admission."""

    zone: ZoneId
    direction: Direction
    presence: ZonePresence
    moved: TicketMoved | None


def decide_entry(
    *,
    verdict: QrVerdict,
    status: TicketStatus,
    policy: EntryPolicy,
    ticket_zone: ZoneId | None,
    presence: Mapping[ZoneId, ZonePresence],
    scan: GateScan,
) -> Passage | ScanReason:
    """The passage a scan makes, or why the gate refuses it; changes nothing.

    `ticket_zone` is the zone of the ticket's type; `presence` the ticket's, by zone. A zone the
    event does not have is `unknown_zone` (the HTTP layer answers a live scan naming one with
    VALIDATION_ERROR first, through `scan_zone_problem`; a stored scan may name a zone removed
    since, and is refused with this reason when it is replayed).
    """
    refusal = VERDICT_REFUSALS[verdict] or ENTRY_STATUS_REFUSALS[status]
    if refusal is not None:
        return refusal
    if scan.zone is not None and not has_zone(policy, scan.zone):
        return ScanReason.UNKNOWN_ZONE
    if not may_pass(policy, ticket_zone, scan.zone):
        return ScanReason.WRONG_ZONE
    zone = presence_zone(scan.zone)
    before = known_presence(status, presence).get(zone, NEVER_ENTERED)
    after = cross_gate(policy.reentry, before, scan.direction, scan.scanned_at_ms)
    if isinstance(after, ScanReason):
        return after
    moved = None
    if status is TicketStatus.VALID and scan.direction is Direction.IN:
        checked_in = move_ticket(status, TicketAction.CHECK_IN)
        assert isinstance(checked_in, TicketMoved), "a valid ticket can check in"
        moved = checked_in
    return Passage(zone=zone, direction=scan.direction, presence=after, moved=moved)
