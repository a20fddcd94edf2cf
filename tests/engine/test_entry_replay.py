"""The replay of a ticket's scans: the earliest scan wins, whichever gate reported first, and a
later scan told otherwise at its gate is reported as a conflict."""

from engine.admission import ScanReason
from engine.entry.decision import GateScan
from engine.entry.policy import EntryPolicy, Reentry, Zone
from engine.entry.presence import MAIN_ENTRANCE, Direction, ZonePresence
from engine.entry.replay import RecordedScan, Replay, replay_scans, status_before_scans
from engine.ticket_qr import QrVerdict
from engine.tickets import TicketStatus

REENTRY = EntryPolicy(
    zones=(Zone(zone_id="GA"), Zone(zone_id="VIP", includes=("GA",))),
    reentry=Reentry(enabled=True, cooldown_ms=60_000, max_reentries=1),
)


def scan(
    scan_id: str,
    at_ms: int,
    *,
    zone: str | None = None,
    direction: Direction = Direction.IN,
    told: ScanReason | None = None,
    verdict: QrVerdict = QrVerdict.GENUINE,
    device_id: str = "gate-1",
) -> RecordedScan:
    return RecordedScan(
        scan_id=scan_id,
        device_id=device_id,
        verdict=verdict,
        scan=GateScan(zone=zone, direction=direction, scanned_at_ms=at_ms),
        told=told,
    )


def replay(
    *scans: RecordedScan,
    policy: EntryPolicy = REENTRY,
    status: TicketStatus = TicketStatus.VALID,
    ticket_zone: str | None = "VIP",
) -> Replay:
    return replay_scans(status=status, policy=policy, ticket_zone=ticket_zone, scans=scans)


def outcomes(replayed: Replay) -> list[tuple[str, ScanReason | None, bool]]:
    return [(each.recorded.scan_id, each.reason, each.conflict) for each in replayed.scans]


def test_the_earliest_of_two_offline_admissions_wins_and_the_later_is_a_conflict() -> None:
    replayed = replay(
        scan("b", 2_000, device_id="gate-2"),
        scan("a", 1_000, device_id="gate-1"),
        policy=EntryPolicy(),
    )

    assert outcomes(replayed) == [("a", None, False), ("b", ScanReason.ALREADY_CHECKED_IN, True)]
    assert replayed.status is TicketStatus.CHECKED_IN
    assert replayed.checked_in_at_ms == 1_000
    assert replayed.presence == {MAIN_ENTRANCE: ZonePresence(inside=True, entries=1)}


def test_a_late_offline_scan_made_before_an_online_admission_takes_the_check_in() -> None:
    online = scan("online", 5_000)
    offline = scan("offline", 4_000, device_id="gate-offline")

    replayed = replay(online, offline, policy=EntryPolicy())

    assert outcomes(replayed) == [
        ("offline", None, False),
        ("online", ScanReason.ALREADY_CHECKED_IN, True),
    ]
    assert replayed.checked_in_at_ms == 4_000


def test_scans_made_in_the_same_millisecond_are_ordered_by_their_ids() -> None:
    replayed = replay(scan("y", 1_000), scan("x", 1_000), policy=EntryPolicy())

    assert outcomes(replayed) == [("x", None, False), ("y", ScanReason.ALREADY_CHECKED_IN, True)]


def test_a_scan_told_the_reason_it_is_replayed_to_is_no_conflict() -> None:
    replayed = replay(
        scan("a", 1_000), scan("b", 2_000, told=ScanReason.ALREADY_CHECKED_IN), policy=EntryPolicy()
    )

    assert [each.conflict for each in replayed.scans] == [False, False]


def test_out_and_back_in_follow_the_cooldown_and_the_maximum() -> None:
    replayed = replay(
        scan("1-in", 0, zone="VIP"),
        scan("2-out", 10_000, zone="VIP", direction=Direction.OUT),
        scan("3-in-too-soon", 69_999, zone="VIP", told=ScanReason.REENTRY_COOLDOWN),
        scan("4-in", 70_000, zone="VIP"),
        scan("5-out", 80_000, zone="VIP", direction=Direction.OUT),
        scan("6-in-over-limit", 200_000, zone="VIP"),
        scan("7-in-elsewhere", 200_001, zone="GA"),
    )

    assert outcomes(replayed) == [
        ("1-in", None, False),
        ("2-out", None, False),
        ("3-in-too-soon", ScanReason.REENTRY_COOLDOWN, False),
        ("4-in", None, False),
        ("5-out", None, False),
        ("6-in-over-limit", ScanReason.REENTRY_LIMIT, True),
        ("7-in-elsewhere", None, False),
    ]
    assert replayed.presence == {
        "VIP": ZonePresence(inside=False, entries=2, last_out_at_ms=80_000),
        "GA": ZonePresence(inside=True, entries=1),
    }
    assert replayed.checked_in_at_ms == 0


def test_an_offline_admission_of_a_forged_code_is_refused_and_checks_nothing_in() -> None:
    replayed = replay(scan("a", 1_000, verdict=QrVerdict.FORGED))

    assert outcomes(replayed) == [("a", ScanReason.FORGED, True)]
    assert replayed.status is TicketStatus.VALID
    assert replayed.checked_in_at_ms is None
    assert replayed.presence == {}


def test_every_scan_of_a_refunded_ticket_is_refused() -> None:
    replayed = replay(scan("a", 1_000), scan("b", 2_000), status=TicketStatus.REFUNDED)

    assert outcomes(replayed) == [
        ("a", ScanReason.REFUNDED, True),
        ("b", ScanReason.REFUNDED, True),
    ]
    assert replayed.status is TicketStatus.REFUNDED


def test_a_scan_naming_a_zone_removed_since_is_unknown_zone_and_changes_nothing() -> None:
    replayed = replay(scan("a", 1_000, zone="FOH"))

    assert outcomes(replayed) == [("a", ScanReason.UNKNOWN_ZONE, True)]
    assert replayed.presence == {}


def test_a_replay_starts_a_checked_in_ticket_from_valid_and_any_other_from_its_own_status() -> None:
    assert status_before_scans(TicketStatus.CHECKED_IN) is TicketStatus.VALID
    for status in set(TicketStatus) - {TicketStatus.CHECKED_IN}:
        assert status_before_scans(status) is status


def test_each_passage_carries_the_presence_it_leaves_and_the_replay_can_start_mid_history() -> None:
    before = {"GA": ZonePresence(inside=False, entries=1, last_out_at_ms=1_000)}

    too_soon = replay_scans(
        status=TicketStatus.CHECKED_IN,
        policy=REENTRY,
        ticket_zone="VIP",
        scans=[scan("back", 30_000, zone="GA")],
        presence_before=before,
    )
    replayed = replay_scans(
        status=TicketStatus.CHECKED_IN,
        policy=REENTRY,
        ticket_zone="VIP",
        scans=[scan("back", 61_000, zone="GA"), scan("vip", 62_000, zone="VIP")],
        presence_before=before,
    )

    assert outcomes(too_soon) == [("back", ScanReason.REENTRY_COOLDOWN, True)]
    assert too_soon.scans[0].presence is None
    assert [each.presence for each in replayed.scans] == [
        ZonePresence(inside=True, entries=2, last_out_at_ms=1_000),
        ZonePresence(inside=True, entries=1),
    ]
    assert replayed.checked_in_at_ms is None, "the ticket was checked in before the replay"
    assert before == {"GA": ZonePresence(inside=False, entries=1, last_out_at_ms=1_000)}
