"""The gate's decision under an entry policy: each rule and each reason, in the order they are
told, and today's decision kept whole for an event without a policy."""

import itertools
from collections.abc import Mapping

import pytest

from engine.admission import VERDICT_REFUSALS, ScanReason, decide_scan
from engine.entry.decision import GateScan, Passage, decide_entry
from engine.entry.policy import EntryPolicy, Reentry, Zone
from engine.entry.presence import MAIN_ENTRANCE, Direction, ZonePresence
from engine.ticket_qr import QrVerdict
from engine.tickets import TicketAction, TicketMoved, TicketStatus

COOLDOWN_MS = 900_000
ZONES = (
    Zone(zone_id="GA"),
    Zone(zone_id="VIP", includes=("GA",)),
    Zone(zone_id="BACKSTAGE", includes=("VIP",)),
)
ONCE_PER_ZONE = EntryPolicy(zones=ZONES)
REENTRY = EntryPolicy(
    zones=ZONES, reentry=Reentry(enabled=True, cooldown_ms=COOLDOWN_MS, max_reentries=2)
)
CHECK_IN = TicketMoved(
    before=TicketStatus.VALID,
    action=TicketAction.CHECK_IN,
    after=TicketStatus.CHECKED_IN,
    reason=None,
)
INSIDE_ONCE = ZonePresence(inside=True, entries=1)


def decide(
    policy: EntryPolicy,
    *,
    zone: str | None = None,
    direction: Direction = Direction.IN,
    at_ms: int = 1_000_000,
    ticket_zone: str | None = "BACKSTAGE",
    status: TicketStatus = TicketStatus.VALID,
    presence: Mapping[str, ZonePresence] | None = None,
    verdict: QrVerdict = QrVerdict.GENUINE,
) -> Passage | ScanReason:
    return decide_entry(
        verdict=verdict,
        status=status,
        policy=policy,
        ticket_zone=ticket_zone,
        presence=presence or {},
        scan=GateScan(zone=zone, direction=direction, scanned_at_ms=at_ms),
    )


@pytest.mark.parametrize(("verdict", "status"), list(itertools.product(QrVerdict, TicketStatus)))
def test_without_a_policy_the_gate_decides_as_it_did_before_zones(
    verdict: QrVerdict, status: TicketStatus
) -> None:
    decision = decide(EntryPolicy(), ticket_zone=None, status=status, verdict=verdict)

    before_zones = VERDICT_REFUSALS[verdict] or decide_scan(
        status=status, scanned_at_ms=0, issued_at_ms=0
    )
    if isinstance(before_zones, TicketMoved):
        assert decision == Passage(
            zone=MAIN_ENTRANCE, direction=Direction.IN, presence=INSIDE_ONCE, moved=before_zones
        )
    else:
        assert decision is before_zones


def test_the_first_admission_checks_the_ticket_in_and_marks_it_inside_that_zone() -> None:
    assert decide(ONCE_PER_ZONE, zone="VIP") == Passage(
        zone="VIP", direction=Direction.IN, presence=INSIDE_ONCE, moved=CHECK_IN
    )


def test_a_checked_in_ticket_enters_another_zone_without_moving_again() -> None:
    decision = decide(
        ONCE_PER_ZONE,
        zone="GA",
        status=TicketStatus.CHECKED_IN,
        presence={MAIN_ENTRANCE: INSIDE_ONCE},
    )

    assert decision == Passage(zone="GA", direction=Direction.IN, presence=INSIDE_ONCE, moved=None)


def test_a_second_entry_at_a_zone_is_already_checked_in_when_reentry_is_disabled() -> None:
    decision = decide(
        ONCE_PER_ZONE, zone="VIP", status=TicketStatus.CHECKED_IN, presence={"VIP": INSIDE_ONCE}
    )

    assert decision is ScanReason.ALREADY_CHECKED_IN


def test_going_out_is_refused_when_reentry_is_disabled() -> None:
    decision = decide(
        ONCE_PER_ZONE,
        direction=Direction.OUT,
        status=TicketStatus.CHECKED_IN,
        presence={MAIN_ENTRANCE: INSIDE_ONCE},
    )

    assert decision is ScanReason.REENTRY_DISABLED


def test_a_ticket_checked_in_before_presence_was_kept_counts_as_inside_the_main_entrance() -> None:
    assert decide(ONCE_PER_ZONE, status=TicketStatus.CHECKED_IN) is ScanReason.ALREADY_CHECKED_IN
    assert decide(REENTRY, status=TicketStatus.CHECKED_IN) is ScanReason.ALREADY_INSIDE
    assert decide(
        REENTRY, direction=Direction.OUT, at_ms=5, status=TicketStatus.CHECKED_IN
    ) == Passage(
        zone=MAIN_ENTRANCE,
        direction=Direction.OUT,
        presence=ZonePresence(inside=False, entries=1, last_out_at_ms=5),
        moved=None,
    )


@pytest.mark.parametrize(
    ("ticket_zone", "gate_zone"),
    [("GA", "VIP"), ("VIP", "BACKSTAGE"), (None, "GA"), ("REMOVED", "GA")],
)
def test_a_gate_refuses_a_ticket_whose_zone_does_not_reach_it(
    ticket_zone: str | None, gate_zone: str
) -> None:
    assert decide(REENTRY, zone=gate_zone, ticket_zone=ticket_zone) is ScanReason.WRONG_ZONE
    assert (
        decide(REENTRY, zone=gate_zone, ticket_zone=ticket_zone, direction=Direction.OUT)
        is ScanReason.WRONG_ZONE
    )


@pytest.mark.parametrize("ticket_zone", ["GA", "VIP", "BACKSTAGE", None])
def test_the_main_entrance_lets_every_ticket_in(ticket_zone: str | None) -> None:
    decision = decide(REENTRY, ticket_zone=ticket_zone)

    assert isinstance(decision, Passage)
    assert decision.zone == MAIN_ENTRANCE


@pytest.mark.parametrize("policy", [EntryPolicy(), REENTRY])
def test_a_zone_the_event_does_not_have_is_unknown_zone(policy: EntryPolicy) -> None:
    assert decide(policy, zone="FOH") is ScanReason.UNKNOWN_ZONE


def test_the_code_and_the_status_are_told_before_the_zone() -> None:
    assert decide(REENTRY, zone="FOH", verdict=QrVerdict.FORGED) is ScanReason.FORGED
    assert decide(REENTRY, zone="FOH", status=TicketStatus.REFUNDED) is ScanReason.REFUNDED
    assert (
        decide(REENTRY, zone="VIP", ticket_zone="GA", status=TicketStatus.LOCKED)
        is ScanReason.LOCKED
    )


def test_an_entry_while_inside_is_already_inside_when_reentry_is_enabled() -> None:
    decision = decide(
        REENTRY, zone="GA", status=TicketStatus.CHECKED_IN, presence={"GA": INSIDE_ONCE}
    )

    assert decision is ScanReason.ALREADY_INSIDE


def test_going_out_while_inside_leaves_the_zone_and_notes_when() -> None:
    decision = decide(
        REENTRY,
        zone="GA",
        direction=Direction.OUT,
        at_ms=7_000,
        status=TicketStatus.CHECKED_IN,
        presence={"GA": INSIDE_ONCE, MAIN_ENTRANCE: INSIDE_ONCE},
    )

    assert decision == Passage(
        zone="GA",
        direction=Direction.OUT,
        presence=ZonePresence(inside=False, entries=1, last_out_at_ms=7_000),
        moved=None,
    )


def test_going_out_without_being_inside_is_not_inside() -> None:
    assert decide(REENTRY, direction=Direction.OUT) is ScanReason.NOT_INSIDE
    assert (
        decide(
            REENTRY,
            zone="VIP",
            direction=Direction.OUT,
            status=TicketStatus.CHECKED_IN,
            presence={MAIN_ENTRANCE: INSIDE_ONCE},
        )
        is ScanReason.NOT_INSIDE
    )


def test_coming_back_within_the_cooldown_of_going_out_is_reentry_cooldown() -> None:
    went_out = ZonePresence(inside=False, entries=1, last_out_at_ms=1_000_000)

    too_soon = decide(
        REENTRY,
        at_ms=1_000_000 + COOLDOWN_MS - 1,
        status=TicketStatus.CHECKED_IN,
        presence={MAIN_ENTRANCE: went_out},
    )
    in_time = decide(
        REENTRY,
        at_ms=1_000_000 + COOLDOWN_MS,
        status=TicketStatus.CHECKED_IN,
        presence={MAIN_ENTRANCE: went_out},
    )

    assert too_soon is ScanReason.REENTRY_COOLDOWN
    assert in_time == Passage(
        zone=MAIN_ENTRANCE,
        direction=Direction.IN,
        presence=ZonePresence(inside=True, entries=2, last_out_at_ms=1_000_000),
        moved=None,
    )


def test_coming_back_after_the_maximum_reentries_is_reentry_limit_even_past_the_cooldown() -> None:
    reentered_twice = ZonePresence(inside=False, entries=3, last_out_at_ms=1_000)
    reentered_once = ZonePresence(inside=False, entries=2, last_out_at_ms=1_000)

    limited = decide(
        REENTRY, at_ms=1_000, status=TicketStatus.CHECKED_IN, presence={"": reentered_twice}
    )
    cooling = decide(
        REENTRY, at_ms=1_000, status=TicketStatus.CHECKED_IN, presence={"": reentered_once}
    )

    assert limited is ScanReason.REENTRY_LIMIT
    assert cooling is ScanReason.REENTRY_COOLDOWN


def test_reentries_are_counted_per_zone() -> None:
    presence = {
        MAIN_ENTRANCE: ZonePresence(inside=False, entries=3, last_out_at_ms=0),
        "GA": ZonePresence(inside=False, entries=1, last_out_at_ms=0),
    }

    at_main = decide(REENTRY, status=TicketStatus.CHECKED_IN, presence=presence)
    at_ga = decide(REENTRY, zone="GA", status=TicketStatus.CHECKED_IN, presence=presence)

    assert at_main is ScanReason.REENTRY_LIMIT
    assert isinstance(at_ga, Passage)
    assert at_ga.presence.entries == 2


def test_no_reentry_at_all_when_the_maximum_is_zero() -> None:
    policy = EntryPolicy(reentry=Reentry(enabled=True, max_reentries=0))
    went_out = ZonePresence(inside=False, entries=1, last_out_at_ms=0)

    decision = decide(
        policy, ticket_zone=None, status=TicketStatus.CHECKED_IN, presence={"": went_out}
    )

    assert decision is ScanReason.REENTRY_LIMIT
