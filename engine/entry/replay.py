"""Every scan of one ticket, online and offline, replayed through `decide_entry` in the order the
scans were made, so each gets its final result however late its gate reported it.

Scans are taken in (scanned_at_ms, scan_id) order, the id breaking ties the same way every time:
the earliest scan wins, and each later one is decided against what the earlier ones did. A scan
whose final result differs from what its gate told at the time is a conflict for the venue to see
(two offline gates that both admitted one ticket: the later admission is reported). Online and
offline scans go through the same rules; the replay changes nothing and returns the outcome.
"""

from collections.abc import Iterable, Mapping

import msgspec

from engine.admission import ScanReason
from engine.entry.decision import GateScan, Passage, decide_entry
from engine.entry.policy import EntryPolicy
from engine.entry.presence import ZonePresence
from engine.ids import ScanId, ZoneId
from engine.ticket_qr import QrVerdict
from engine.tickets import TicketStatus


class RecordedScan(msgspec.Struct, frozen=True, kw_only=True):
    """A scan as its gate made it: the verdict of its code at its `scanned_at_ms`, and what the
    gate told (`told` is None when it let the ticket through)."""

    scan_id: ScanId
    device_id: str
    verdict: QrVerdict
    scan: GateScan
    told: ScanReason | None


class ReplayedScan(msgspec.Struct, frozen=True, kw_only=True):
    """A scan's final result: `reason` is None when it let the ticket through, and `presence` is
    then the ticket's presence in the scan's zone after it; `conflict` says the gate told
    otherwise."""

    recorded: RecordedScan
    reason: ScanReason | None
    conflict: bool
    presence: ZonePresence | None = None


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    """The scans in the order they were replayed, and the ticket they leave: its status, when it
    was checked in (None when no scan admitted it) and its presence by zone."""

    scans: tuple[ReplayedScan, ...]
    status: TicketStatus
    checked_in_at_ms: int | None
    presence: dict[ZoneId, ZonePresence]


def status_before_scans(status: TicketStatus) -> TicketStatus:
    """The status a replay starts from: only scans check a ticket in, so a checked-in ticket was
    valid before its first scan; any other status is the ticket's own, scans or not."""
    return TicketStatus.VALID if status is TicketStatus.CHECKED_IN else status


def replay_scans(
    *,
    status: TicketStatus,
    policy: EntryPolicy,
    ticket_zone: ZoneId | None,
    scans: Iterable[RecordedScan],
    presence_before: Mapping[ZoneId, ZonePresence] | None = None,
) -> Replay:
    """Each scan's final result and the ticket they leave, from `status` and `presence_before`
    (none, unless the replay starts after scans that stay as they are) before the first scan."""
    ordered = sorted(scans, key=lambda recorded: (recorded.scan.scanned_at_ms, recorded.scan_id))
    assert len({recorded.scan_id for recorded in ordered}) == len(ordered), "one record per scan"
    presence: dict[ZoneId, ZonePresence] = dict(presence_before or {})
    checked_in_at_ms = None
    replayed = []
    for recorded in ordered:
        decision = decide_entry(
            verdict=recorded.verdict,
            status=status,
            policy=policy,
            ticket_zone=ticket_zone,
            presence=presence,
            scan=recorded.scan,
        )
        reason = None
        after = None
        if isinstance(decision, Passage):
            presence[decision.zone] = after = decision.presence
            if decision.moved is not None:
                status = decision.moved.after
                checked_in_at_ms = recorded.scan.scanned_at_ms
        else:
            reason = decision
        replayed.append(
            ReplayedScan(
                recorded=recorded, reason=reason, conflict=reason != recorded.told, presence=after
            )
        )
    return Replay(
        scans=tuple(replayed),
        status=status,
        checked_in_at_ms=checked_in_at_ms,
        presence=presence,
    )
