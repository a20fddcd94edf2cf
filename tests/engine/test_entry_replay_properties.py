"""Properties of the replay, for any policy, ticket zone and scans in any order of arrival: the
same final results whatever the order; a zone is never entered twice without going out between;
re-entries never pass the maximum; a re-entry never comes within the cooldown of going out; and a
later scan never changes the result of an earlier one."""

import random
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.admission import ScanReason
from engine.entry.decision import GateScan
from engine.entry.policy import EntryPolicy, Reentry, Zone
from engine.entry.presence import Direction, presence_zone
from engine.entry.replay import RecordedScan, Replay, replay_scans
from engine.ticket_qr import QrVerdict
from engine.tickets import TicketStatus

ZONES = (
    Zone(zone_id="GA"),
    Zone(zone_id="VIP", includes=("GA",)),
    Zone(zone_id="BACKSTAGE", includes=("VIP",)),
)
GATE_ZONES = st.sampled_from([None, "GA", "VIP", "BACKSTAGE", "FOH"])
TICKET_ZONES = st.sampled_from([None, "GA", "VIP", "BACKSTAGE"])
# Half the tickets are valid; the others show that no other status is ever let through.
STATUSES = st.one_of(
    st.just(TicketStatus.VALID), st.sampled_from([TicketStatus.REFUNDED, TicketStatus.LOCKED])
)
REACHES: dict[str | None, set[str]] = {
    None: set(),
    "GA": {"GA"},
    "VIP": {"VIP", "GA"},
    "BACKSTAGE": {"BACKSTAGE", "VIP", "GA"},
}
GAPS_MS = st.sampled_from([0, 1_000, 5_000, 10_000, 30_000])
TOLD = st.sampled_from([None, ScanReason.ALREADY_CHECKED_IN, ScanReason.ALREADY_INSIDE])

POLICIES = st.builds(
    EntryPolicy,
    zones=st.just(ZONES),
    reentry=st.builds(
        Reentry,
        enabled=st.booleans(),
        cooldown_ms=st.sampled_from([0, 10_000, 30_000]),
        max_reentries=st.integers(min_value=0, max_value=3),
    ),
)


@st.composite
def scan_lists(draw: st.DrawFn, *, lawful: bool = False) -> list[RecordedScan]:
    """Up to 16 scans at gates of one or two zones, mostly turning in and out by turns, a few
    seconds apart or at the same instant, so that ties, re-entries and cooldowns all happen. In
    `lawful` lists every code is genuine and every gate of a zone the event has."""
    count = draw(st.integers(min_value=0, max_value=16))
    zones = TICKET_ZONES if lawful else GATE_ZONES
    gate_zones = st.sampled_from(draw(st.lists(zones, min_size=1, max_size=2)))
    verdicts = st.just(QrVerdict.GENUINE) if lawful else st.sampled_from(QrVerdict)
    ids = draw(st.lists(st.uuids().map(str), min_size=count, max_size=count, unique=True))
    scans = []
    scanned_at_ms = 0
    for index, scan_id in enumerate(ids):
        scanned_at_ms += draw(GAPS_MS)
        turns_out = index % 2 == 1
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            turns_out = not turns_out
        scans.append(
            RecordedScan(
                scan_id=scan_id,
                device_id=draw(st.sampled_from(["gate-1", "gate-2", "offline-3"])),
                verdict=draw(verdicts),
                scan=GateScan(
                    zone=draw(gate_zones),
                    direction=Direction.OUT if turns_out else Direction.IN,
                    scanned_at_ms=scanned_at_ms,
                ),
                told=draw(TOLD),
            )
        )
    return scans


ANY_SCANS = st.booleans().flatmap(lambda lawful: scan_lists(lawful=lawful))


def replay(
    policy: EntryPolicy, status: TicketStatus, ticket_zone: str | None, scans: list[RecordedScan]
) -> Replay:
    return replay_scans(status=status, policy=policy, ticket_zone=ticket_zone, scans=scans)


def passages_by_zone(replayed: Replay) -> dict[str, list[RecordedScan]]:
    """The scans that let the ticket through, zone by zone, in replay order."""
    passages: dict[str, list[RecordedScan]] = defaultdict(list)
    for each in replayed.scans:
        if each.reason is None:
            passages[presence_zone(each.recorded.scan.zone)].append(each.recorded)
    return passages


@settings(max_examples=300)
@given(
    policy=POLICIES,
    status=STATUSES,
    ticket_zone=TICKET_ZONES,
    scans=ANY_SCANS,
    arrival=st.randoms(use_true_random=False),
)
def test_any_order_of_arrival_gives_the_same_results(
    policy: EntryPolicy,
    status: TicketStatus,
    ticket_zone: str | None,
    scans: list[RecordedScan],
    arrival: random.Random,
) -> None:
    arrived = list(scans)
    arrival.shuffle(arrived)

    assert replay(policy, status, ticket_zone, arrived) == replay(
        policy, status, ticket_zone, scans
    )


@settings(max_examples=300)
@given(
    policy=POLICIES,
    status=st.just(TicketStatus.VALID),
    ticket_zone=TICKET_ZONES,
    scans=scan_lists(lawful=True),
)
def test_passages_alternate_in_and_out_within_the_maximum_and_the_cooldown(
    policy: EntryPolicy, status: TicketStatus, ticket_zone: str | None, scans: list[RecordedScan]
) -> None:
    replayed = replay(policy, status, ticket_zone, scans)

    for zone, passages in passages_by_zone(replayed).items():
        directions = [passage.scan.direction for passage in passages]
        by_turns = [Direction.OUT if turn % 2 else Direction.IN for turn in range(len(passages))]
        assert directions == by_turns, f"in and out take turns from in at {zone!r}"
        entries = directions.count(Direction.IN)
        most = 1 + policy.reentry.max_reentries if policy.reentry.enabled else 1
        assert entries <= most
        for went_out, came_back in zip(passages[1::2], passages[2::2], strict=False):
            waited_ms = came_back.scan.scanned_at_ms - went_out.scan.scanned_at_ms
            assert waited_ms >= policy.reentry.cooldown_ms
        presence = replayed.presence.get(zone)
        assert presence is not None
        assert (presence.entries, presence.inside) == (entries, directions[-1] is Direction.IN)


@settings(max_examples=300)
@given(policy=POLICIES, status=STATUSES, ticket_zone=TICKET_ZONES, scans=scan_lists())
def test_only_a_genuine_code_of_a_valid_ticket_at_a_gate_it_reaches_is_let_through(
    policy: EntryPolicy, status: TicketStatus, ticket_zone: str | None, scans: list[RecordedScan]
) -> None:
    replayed = replay(policy, status, ticket_zone, scans)

    let_through = [each.recorded for each in replayed.scans if each.reason is None]
    for recorded in let_through:
        assert recorded.verdict is QrVerdict.GENUINE
        assert status is TicketStatus.VALID
        assert recorded.scan.zone is None or recorded.scan.zone in REACHES[ticket_zone]
    first_in = next((each for each in let_through if each.scan.direction is Direction.IN), None)
    if first_in is None:
        assert (replayed.status, replayed.checked_in_at_ms) == (status, None)
    else:
        assert replayed.status is TicketStatus.CHECKED_IN
        assert replayed.checked_in_at_ms == first_in.scan.scanned_at_ms


@settings(max_examples=300)
@given(
    policy=POLICIES,
    status=STATUSES,
    ticket_zone=TICKET_ZONES,
    scans=ANY_SCANS,
    cut=st.integers(min_value=0, max_value=16),
)
def test_a_later_scan_never_changes_the_result_of_an_earlier_one(
    policy: EntryPolicy,
    status: TicketStatus,
    ticket_zone: str | None,
    scans: list[RecordedScan],
    cut: int,
) -> None:
    replayed = replay(policy, status, ticket_zone, scans)
    earliest = [each.recorded for each in replayed.scans[:cut]]

    assert replay(policy, status, ticket_zone, earliest).scans == replayed.scans[:cut]
