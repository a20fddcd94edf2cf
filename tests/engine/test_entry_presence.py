"""A ticket's presence as its admitted scans leave it, and which refusals a replay may change."""

from engine.admission import ScanReason
from engine.entry.decision import REPLAYED_REASONS
from engine.entry.presence import (
    MAIN_ENTRANCE,
    Direction,
    RecordedPassage,
    ZonePresence,
    presence_after,
)


def passage(zone: str, direction: Direction, entry_number: int, at_ms: int) -> RecordedPassage:
    return RecordedPassage(
        zone=zone, direction=direction, entry_number=entry_number, scanned_at_ms=at_ms
    )


def test_presence_is_where_the_last_passage_of_each_zone_left_the_ticket() -> None:
    presence = presence_after(
        [
            passage(MAIN_ENTRANCE, Direction.IN, 1, 1_000),
            passage("VIP", Direction.IN, 1, 2_000),
            passage("VIP", Direction.OUT, 1, 3_000),
            passage(MAIN_ENTRANCE, Direction.OUT, 1, 4_000),
            passage(MAIN_ENTRANCE, Direction.IN, 2, 9_000),
        ]
    )

    assert presence == {
        MAIN_ENTRANCE: ZonePresence(inside=True, entries=2, last_out_at_ms=4_000),
        "VIP": ZonePresence(inside=False, entries=1, last_out_at_ms=3_000),
    }


def test_no_passage_leaves_no_presence() -> None:
    assert presence_after([]) == {}


def test_only_refusals_of_the_ticket_and_the_policy_are_replayed() -> None:
    final = {
        ScanReason.FORGED,
        ScanReason.EXPIRED_CODE,
        ScanReason.CODE_STEP_MISMATCH,
        ScanReason.OUTSIDE_DOOR_WINDOW,
        ScanReason.SCANNED_AFTER_UPLOAD,
        ScanReason.BEFORE_TICKET_ISSUED,
        ScanReason.UNKNOWN_TICKET,
        ScanReason.WRONG_EVENT,
        ScanReason.MALFORMED,
        ScanReason.OUTDATED_CODE,
    }

    assert REPLAYED_REASONS | final == set(ScanReason)
    assert not REPLAYED_REASONS & final
