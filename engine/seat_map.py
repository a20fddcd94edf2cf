"""The seat map of one event: where each seat sits, its label, its state byte, and the search for
the best available seats.

Seats carry a seat index in rank order: sections in the order the venue lists them (first is best),
rows in the order listed within their section (first is best), numbers from 1. States live in one
preallocated bytearray indexed by seat index, and the longest free run of every row in a second
bytearray, so the search skips full rows in C. Labels (`SECTION-ROW-NUMBER`) are computed from the
layout, never stored per seat. Change the ranking rule only together with `find_best_seats`.
"""

import array
import enum
import re
from collections.abc import Iterable, Sequence

import msgspec

from engine import limits
from engine.ids import RowId, SeatId, SectionId, TicketTypeId


class SeatState(enum.IntEnum):
    AVAILABLE = 0
    HELD = 1
    SOLD = 2
    KILLED = 3
    SET_ASIDE_COMPS = 4
    SET_ASIDE_PRESS = 5
    SET_ASIDE_ARTISTS = 6


class RowLayout(msgspec.Struct, frozen=True, kw_only=True):
    """`accessible` and `companion` are seat numbers best available leaves alone unless a fan
    asks for accessible seats (until they are released to general sale)."""

    row_id: RowId
    seats: int
    accessible: tuple[int, ...] = ()
    companion: tuple[int, ...] = ()


class SectionLayout(msgspec.Struct, frozen=True, kw_only=True):
    section_id: SectionId
    ticket_type_id: TicketTypeId
    rows: tuple[RowLayout, ...]


class Placement(msgspec.Struct, frozen=True, kw_only=True):
    """Where a block of seats would go: lower keys are better (orphans, then distance to centre)."""

    first_seat_index: int
    orphans: int
    distance_from_centre: int


FREE_RUN = re.compile(rb"\x00+")
# A seat a search view hides: no SeatState, never stored, only in `SeatStates.search_view`.
HIDDEN_SEAT = 0xFF
SEAT_LABEL_SEPARATOR = "-"


def free_run_pattern(quantity: int) -> re.Pattern[bytes]:
    return _FREE_RUN_PATTERNS[quantity]


def orphan_free_run_pattern(quantity: int) -> re.Pattern[bytes]:
    """A run of `quantity` that fills its gap exactly, or one long enough to leave two or more."""
    return _ORPHAN_FREE_RUN_PATTERNS[quantity]


def row_with_run_pattern(quantity: int) -> re.Pattern[bytes]:
    return _ROW_WITH_RUN_PATTERNS[quantity]


_FREE_RUN_PATTERNS = {
    quantity: re.compile(rb"\x00{%d,}" % quantity)
    for quantity in range(1, limits.SEATS_PER_HOLD_MAX + 1)
}
_ORPHAN_FREE_RUN_PATTERNS = {
    quantity: re.compile(
        rb"(?:\A|(?<=[^\x00]))\x00{%d}(?=[^\x00]|\Z)|\x00{%d,}" % (quantity, quantity + 2)
    )
    for quantity in range(1, limits.SEATS_PER_HOLD_MAX + 1)
}
ORPHAN_FREE_INDEXED_QUANTITY_MAX = 8
_ORPHAN_FREE_ROW_PATTERNS = {
    quantity: re.compile(
        b"["
        + b"".join(
            re.escape(bytes([value])) for value in range(256) if value & (1 << (quantity - 1))
        )
        + b"]"
    )
    for quantity in range(1, ORPHAN_FREE_INDEXED_QUANTITY_MAX + 1)
}
_ROW_WITH_RUN_PATTERNS = {
    quantity: re.compile(rb"[\x%02x-\xff]" % quantity)
    for quantity in range(1, limits.SEATS_PER_HOLD_MAX + 1)
}


class SeatMap:
    """The fixed layout: seat index to label and row, label to seat index, rows of each section."""

    def __init__(self, sections: Sequence[SectionLayout]) -> None:
        self.sections = tuple(sections)
        self.row_starts: list[int] = []
        self.row_lengths: list[int] = []
        self.row_ids: list[RowId] = []
        self.row_sections: list[int] = []
        self.row_index_by_name: dict[tuple[SectionId, RowId], int] = {}
        self.section_rows: dict[SectionId, range] = {}
        self.sections_by_ticket_type: dict[TicketTypeId, list[SectionId]] = {}
        seat_count = 0
        for section_position, section in enumerate(self.sections):
            first_row = len(self.row_starts)
            for row in section.rows:
                assert 1 <= row.seats <= limits.SEATS_PER_ROW_MAX
                self.row_index_by_name[(section.section_id, row.row_id)] = len(self.row_starts)
                self.row_starts.append(seat_count)
                self.row_lengths.append(row.seats)
                self.row_ids.append(row.row_id)
                self.row_sections.append(section_position)
                seat_count += row.seats
            self.section_rows[section.section_id] = range(first_row, len(self.row_starts))
            self.sections_by_ticket_type.setdefault(section.ticket_type_id, []).append(
                section.section_id
            )
        self.seat_count = seat_count
        self.joined_rows_by_ticket_type = {
            ticket_type_id: self.join_rows_of_ticket_type(ticket_type_id)
            for ticket_type_id in self.sections_by_ticket_type
        }
        self.reserved_seat_indexes = tuple(
            self.row_starts[self.row_index_by_name[(section.section_id, row.row_id)]] + number - 1
            for section in self.sections
            for row in section.rows
            for number in sorted({*row.accessible, *row.companion})
        )
        self.seat_rows = array.array("I", bytes(4 * seat_count))
        for row_index, start in enumerate(self.row_starts):
            for seat_index in range(start, start + self.row_lengths[row_index]):
                self.seat_rows[seat_index] = row_index

    def label(self, seat_index: int) -> SeatId:
        row_index = self.seat_rows[seat_index]
        section = self.sections[self.row_sections[row_index]]
        number = seat_index - self.row_starts[row_index] + 1
        return f"{section.section_id}-{self.row_ids[row_index]}-{number}"

    def labels(self, seat_indexes: Iterable[int]) -> tuple[SeatId, ...]:
        return tuple(self.label(seat_index) for seat_index in seat_indexes)

    def seat_index(self, seat_id: SeatId) -> int | None:
        parts = seat_id.rsplit(SEAT_LABEL_SEPARATOR, 2)
        if len(parts) != 3:
            return None
        section_id, row_id, number_text = parts
        row_index = self.row_index_by_name.get((section_id, row_id))
        if row_index is None or not (number_text.isascii() and number_text.isdecimal()):
            return None
        if number_text.startswith("0"):
            return None
        number = int(number_text)
        if number > self.row_lengths[row_index]:
            return None
        return self.row_starts[row_index] + number - 1

    def ticket_type_of(self, seat_index: int) -> TicketTypeId:
        return self.sections[self.row_sections[self.seat_rows[seat_index]]].ticket_type_id

    def section_of(self, seat_index: int) -> SectionId:
        return self.sections[self.row_sections[self.seat_rows[seat_index]]].section_id

    def rows_of_ticket_type(self, ticket_type_id: TicketTypeId) -> list[range]:
        """The rows of the type's sections in rank order, adjacent sections joined in one range."""
        return self.joined_rows_by_ticket_type.get(ticket_type_id, [])

    def join_rows_of_ticket_type(self, ticket_type_id: TicketTypeId) -> list[range]:
        joined: list[range] = []
        for section_id in self.sections_by_ticket_type[ticket_type_id]:
            rows = self.section_rows[section_id]
            if joined and joined[-1].stop == rows.start:
                joined[-1] = range(joined[-1].start, rows.stop)
            else:
                joined.append(rows)
        return joined


class SeatStates:
    """One state byte per seat and two bytes per row: the longest run of available seats (capped
    at 255), and which small quantities (bit q-1 for q up to 8) the row can seat without an orphan.
    """

    def __init__(self, seat_map: SeatMap) -> None:
        self.seat_map = seat_map
        self.states = bytearray(seat_map.seat_count)
        row_count = len(seat_map.row_starts)
        self.longest_free_run_by_row = bytearray(row_count)
        self.orphan_free_quantities_by_row = bytearray(row_count)
        for row_index in range(row_count):
            self.measure_row(row_index)

    def state(self, seat_index: int) -> SeatState:
        return SeatState(self.states[seat_index])

    def search_view(self, seat_indexes: Sequence[int], *, only: bool) -> "SeatStates":
        """A copy to search in, never to change: the seats given hidden, or (`only`) every other
        seat hidden. Only the rows of those seats are measured again."""
        view = object.__new__(SeatStates)
        view.seat_map = self.seat_map
        if only:
            view.states = bytearray([HIDDEN_SEAT]) * len(self.states)
            for seat_index in seat_indexes:
                view.states[seat_index] = self.states[seat_index]
            view.longest_free_run_by_row = bytearray(len(self.longest_free_run_by_row))
            view.orphan_free_quantities_by_row = bytearray(len(self.longest_free_run_by_row))
        else:
            view.states = bytearray(self.states)
            for seat_index in seat_indexes:
                view.states[seat_index] = HIDDEN_SEAT
            view.longest_free_run_by_row = bytearray(self.longest_free_run_by_row)
            view.orphan_free_quantities_by_row = bytearray(self.orphan_free_quantities_by_row)
        seat_rows = self.seat_map.seat_rows
        for row_index in {seat_rows[seat_index] for seat_index in seat_indexes}:
            view.measure_row(row_index)
        return view

    def set_states(self, seat_indexes: Iterable[int], state: SeatState) -> None:
        touched_rows: set[int] = set()
        seat_rows = self.seat_map.seat_rows
        for seat_index in seat_indexes:
            self.states[seat_index] = state
            touched_rows.add(seat_rows[seat_index])
        for row_index in touched_rows:
            self.measure_row(row_index)

    def measure_row(self, row_index: int) -> None:
        longest, orphan_free_quantities = self.row_summary(row_index)
        self.longest_free_run_by_row[row_index] = longest
        self.orphan_free_quantities_by_row[row_index] = orphan_free_quantities

    def row_summary(self, row_index: int) -> tuple[int, int]:
        """The row's longest free run and its orphan-free quantities, recounted from the states.

        A block of q fits a free run of r without an orphan when r == q or r >= q + 2.
        """
        start = self.seat_map.row_starts[row_index]
        end = start + self.seat_map.row_lengths[row_index]
        runs = set(map(len, FREE_RUN.findall(self.states, start, end)))
        quantities = 0
        for run in runs:
            if run <= ORPHAN_FREE_INDEXED_QUANTITY_MAX:
                quantities |= 1 << (run - 1)
            quantities |= (1 << min(max(run - 2, 0), ORPHAN_FREE_INDEXED_QUANTITY_MAX)) - 1
        return min(max(runs, default=0), 255), quantities

    def find_best_seats(
        self, row_ranges: Sequence[range], quantity: int, contiguous: bool
    ) -> list[int] | None:
        """The best `quantity` available seats in the given rows, or None.

        Best means: side by side in one row; the first row in rank order that can take the block
        without leaving a single seat alone between the block and a taken seat or the row's end;
        inside that row, the block closest to the row's centre. When no row avoids an orphan, the
        best-ranked row that fits wins. Blocks of up to eight seats are found through the per-row
        indexes over every row; larger ones examine at most BEST_AVAILABLE_ROWS_EXAMINED_MAX rows
        that have a long enough run before settling for an orphan. When `contiguous` is false and
        no block fits, the best single seats are taken in rank order, closest to each row's centre
        first.
        """
        assert 1 <= quantity <= limits.SEATS_PER_HOLD_MAX
        placement = self.find_best_block(row_ranges, quantity)
        if placement is not None:
            return list(range(placement, placement + quantity))
        if contiguous:
            return None
        return self.find_scattered_seats(row_ranges, quantity)

    def find_best_block(self, row_ranges: Sequence[range], quantity: int) -> int | None:
        if quantity <= ORPHAN_FREE_INDEXED_QUANTITY_MAX:
            return self.find_indexed_block(row_ranges, quantity)
        return self.find_scanned_block(row_ranges, quantity)

    def find_indexed_block(self, row_ranges: Sequence[range], quantity: int) -> int | None:
        """Small blocks: the per-row indexes find the best row in C, over every row."""
        for rows_pattern, index in (
            (_ORPHAN_FREE_ROW_PATTERNS[quantity], self.orphan_free_quantities_by_row),
            (row_with_run_pattern(quantity), self.longest_free_run_by_row),
        ):
            for row_range in row_ranges:
                match = rows_pattern.search(index, row_range.start, row_range.stop)
                if match is not None:
                    placement = self.best_placement_in_row(match.start(), quantity)
                    assert placement is not None
                    return placement.first_seat_index
        return None

    def find_scanned_block(self, row_ranges: Sequence[range], quantity: int) -> int | None:
        """Large blocks: rows with a long enough run are checked one by one, up to a bound."""
        row_pattern = row_with_run_pattern(quantity)
        orphan_free = orphan_free_run_pattern(quantity)
        row_starts = self.seat_map.row_starts
        row_lengths = self.seat_map.row_lengths
        fallback: Placement | None = None
        rows_examined = 0
        for row_range in row_ranges:
            position = row_range.start
            while position < row_range.stop:
                match = row_pattern.search(self.longest_free_run_by_row, position, row_range.stop)
                if match is None:
                    break
                row_index = match.start()
                start = row_starts[row_index]
                row = self.states[start : start + row_lengths[row_index]]
                if orphan_free.search(row) is not None or fallback is None:
                    placement = self.best_placement_in_row(row_index, quantity)
                    assert placement is not None
                    if placement.orphans == 0:
                        return placement.first_seat_index
                    fallback = placement
                rows_examined += 1
                if rows_examined >= limits.BEST_AVAILABLE_ROWS_EXAMINED_MAX:
                    return fallback.first_seat_index
                position = row_index + 1
        return None if fallback is None else fallback.first_seat_index

    def best_placement_in_row(self, row_index: int, quantity: int) -> Placement | None:
        start = self.seat_map.row_starts[row_index]
        length = self.seat_map.row_lengths[row_index]
        best: Placement | None = None
        best_key: tuple[int, int, int] | None = None
        for match in free_run_pattern(quantity).finditer(self.states, start, start + length):
            run_first = match.start() - start
            run_last_start = match.end() - start - quantity
            ideal = (length - quantity) // 2
            candidates = {run_first, run_last_start}
            for offset in (-2, -1, 0, 1, 2):
                candidates.add(min(max(ideal + offset, run_first), run_last_start))
            for first in candidates:
                orphans = int(first - run_first == 1) + int(run_last_start - first == 1)
                distance = abs(2 * first + quantity - length)
                key = (orphans, distance, first)
                if best_key is None or key < best_key:
                    best_key = key
                    best = Placement(
                        first_seat_index=start + first,
                        orphans=orphans,
                        distance_from_centre=distance,
                    )
        return best

    def find_scattered_seats(self, row_ranges: Sequence[range], quantity: int) -> list[int] | None:
        chosen: list[int] = []
        row_starts = self.seat_map.row_starts
        row_lengths = self.seat_map.row_lengths
        for row_range in row_ranges:
            for row_index in row_range:
                if self.longest_free_run_by_row[row_index] == 0:
                    continue
                start = row_starts[row_index]
                length = row_lengths[row_index]
                free = [
                    start + offset
                    for offset in range(length)
                    if self.states[start + offset] == SeatState.AVAILABLE
                ]
                free.sort(key=lambda seat_index: abs(2 * (seat_index - start) + 1 - length))
                chosen.extend(free[: quantity - len(chosen)])
                if len(chosen) == quantity:
                    return sorted(chosen)
        return None
