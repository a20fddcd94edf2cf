"""Seat labels and the best-available search: rank order, centre, and no single orphan seat."""

import pytest

from engine import limits
from engine.seat_map import RowLayout, SeatMap, SeatState, SeatStates, SectionLayout

SECTIONS = (
    SectionLayout(
        section_id="101",
        ticket_type_id="RES",
        rows=(RowLayout(row_id="A", seats=10), RowLayout(row_id="B", seats=12)),
    ),
    SectionLayout(section_id="BOX", ticket_type_id="VIP", rows=(RowLayout(row_id="1", seats=4),)),
)


def seat_states(row_lengths: list[int]) -> SeatStates:
    rows = tuple(
        RowLayout(row_id=f"R{number}", seats=length) for number, length in enumerate(row_lengths)
    )
    return SeatStates(SeatMap([SectionLayout(section_id="S", ticket_type_id="RES", rows=rows)]))


def take(states: SeatStates, row: int, numbers: list[int]) -> None:
    start = states.seat_map.row_starts[row]
    states.set_states([start + number - 1 for number in numbers], SeatState.SOLD)


def best_numbers(states: SeatStates, quantity: int, contiguous: bool = True) -> list[str] | None:
    found = states.find_best_seats([range(len(states.seat_map.row_starts))], quantity, contiguous)
    return None if found is None else list(states.seat_map.labels(found))


def test_every_label_maps_back_to_its_seat_when_parsed() -> None:
    seat_map = SeatMap(SECTIONS)
    assert seat_map.seat_count == 26
    for seat_index in range(seat_map.seat_count):
        assert seat_map.seat_index(seat_map.label(seat_index)) == seat_index
    assert seat_map.label(10) == "101-B-1"
    assert seat_map.ticket_type_of(23) == "VIP"
    assert seat_map.section_of(23) == "BOX"


@pytest.mark.parametrize("label", ["101-A-11", "101-C-1", "101-A-0", "101-A-+1", "101-A", "x-1-1"])
def test_seat_index_is_none_when_the_label_names_no_seat(label: str) -> None:
    assert SeatMap(SECTIONS).seat_index(label) is None


def test_best_block_is_centred_in_the_first_row_when_all_is_free() -> None:
    assert best_numbers(seat_states([10, 10]), 4) == ["S-R0-4", "S-R0-5", "S-R0-6", "S-R0-7"]


def test_best_block_leaves_no_single_seat_at_the_row_end_when_avoidable() -> None:
    states = seat_states([10])
    take(states, 0, [7, 8, 9, 10])
    assert best_numbers(states, 4) == ["S-R0-3", "S-R0-4", "S-R0-5", "S-R0-6"]
    assert best_numbers(states, 5) == ["S-R0-2", "S-R0-3", "S-R0-4", "S-R0-5", "S-R0-6"]


def test_best_block_moves_off_centre_when_the_centre_would_leave_an_orphan() -> None:
    states = seat_states([10])
    take(states, 0, [1, 2, 3, 10])
    assert best_numbers(states, 2) == ["S-R0-4", "S-R0-5"]
    take(states, 0, [4, 5])
    assert best_numbers(states, 2) == ["S-R0-6", "S-R0-7"]


def test_best_block_goes_to_a_worse_row_when_the_best_would_leave_an_orphan() -> None:
    states = seat_states([10, 10])
    take(states, 0, [1, 2, 3, 4, 5])
    assert best_numbers(states, 4) == ["S-R1-4", "S-R1-5", "S-R1-6", "S-R1-7"]


def test_best_block_accepts_an_orphan_when_no_row_can_avoid_it() -> None:
    states = seat_states([10, 10])
    take(states, 0, [1, 2, 3, 4, 5])
    take(states, 1, list(range(1, 11)))
    assert best_numbers(states, 4) is not None


def test_large_block_settles_for_an_orphan_when_the_examined_row_maximum_is_reached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "BEST_AVAILABLE_ROWS_EXAMINED_MAX", 2)
    states = seat_states([11, 11, 9])
    take(states, 0, [1])
    take(states, 1, [1])
    assert best_numbers(states, 9) == [f"S-R0-{number}" for number in range(2, 11)]
    monkeypatch.setattr(limits, "BEST_AVAILABLE_ROWS_EXAMINED_MAX", 3)
    assert best_numbers(states, 9) == [f"S-R2-{number}" for number in range(1, 10)]


def test_small_block_avoids_orphans_over_every_row_when_the_examined_maximum_is_low(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "BEST_AVAILABLE_ROWS_EXAMINED_MAX", 1)
    states = seat_states([5, 5, 5, 3])
    for row in range(3):
        take(states, row, [1])
    assert best_numbers(states, 3) == ["S-R3-1", "S-R3-2", "S-R3-3"]


def test_rows_are_skipped_when_their_longest_free_run_is_too_short() -> None:
    states = seat_states([6, 6, 6])
    take(states, 0, [2, 4, 6])
    take(states, 1, [3])
    assert list(states.longest_free_run_by_row) == [1, 3, 6]
    assert best_numbers(states, 3) == ["S-R1-4", "S-R1-5", "S-R1-6"]
    assert best_numbers(states, 4) == ["S-R2-1", "S-R2-2", "S-R2-3", "S-R2-4"]


def test_no_block_is_found_when_no_row_has_enough_side_by_side() -> None:
    states = seat_states([4, 4])
    take(states, 0, [2])
    take(states, 1, [3])
    assert best_numbers(states, 3) is None


def test_seats_fill_from_the_best_row_outward_when_contiguity_is_not_required() -> None:
    states = seat_states([4, 4])
    take(states, 0, [2])
    take(states, 1, [3])
    assert best_numbers(states, 3, contiguous=False) == ["S-R0-1", "S-R0-3", "S-R0-4"]
    assert best_numbers(states, 5, contiguous=False) == [
        "S-R0-1",
        "S-R0-3",
        "S-R0-4",
        "S-R1-1",
        "S-R1-2",
    ]
    assert best_numbers(states, 7, contiguous=False) is None
