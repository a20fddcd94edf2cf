"""The units of each ticket type an inventory counts, and the seat states that mark what is
withheld.

`available + held + sold + withheld == capacity` for every type at every instant; the seated types'
counts also match their seats' states. A new withholding gets its seat state here.
"""

import dataclasses
from collections.abc import Iterable, Mapping

import msgspec

from engine.commands import Withholding
from engine.ids import SeatId, TicketTypeId
from engine.inventory.configuration import (
    InventoryConfiguration,
    TicketKind,
    TicketTypeDefinition,
)
from engine.inventory.rows import SeatRow, WithheldUnitsRow
from engine.seat_map import SeatState


class TicketTypeCounts(msgspec.Struct, frozen=True, kw_only=True):
    """`sold + held + available == capacity - withheld` at every instant."""

    ticket_type_id: TicketTypeId
    capacity: int
    available: int
    held: int
    sold: int
    withheld: int


WITHHOLDING_SEAT_STATES: dict[Withholding, SeatState] = {
    Withholding.KILL: SeatState.KILLED,
    Withholding.COMPS: SeatState.SET_ASIDE_COMPS,
    Withholding.PRESS: SeatState.SET_ASIDE_PRESS,
    Withholding.ARTISTS: SeatState.SET_ASIDE_ARTISTS,
}
assert set(WITHHOLDING_SEAT_STATES) == set(Withholding)
SEAT_STATE_WITHHOLDINGS = {
    state: withholding for withholding, state in WITHHOLDING_SEAT_STATES.items()
}


@dataclasses.dataclass(slots=True)
class UnitCounts:
    capacity: int
    available: int
    held: int = 0
    sold: int = 0
    withheld: dict[Withholding, int] = dataclasses.field(
        default_factory=lambda: dict.fromkeys(Withholding, 0)
    )

    def assert_recounted(
        self, ticket_type_id: TicketTypeId, held: int, sold: int, seats: dict[SeatState, int] | None
    ) -> None:
        """The counts match the holds' and sales' units and, for a seated type, its `seats`
        tallied by state; a difference is a bug."""
        assert self.held == held, ticket_type_id
        assert self.sold == sold, ticket_type_id
        assert min(self.available, self.held, self.sold, *self.withheld.values()) >= 0
        total = self.available + self.held + self.sold + sum(self.withheld.values())
        assert total == self.capacity, ticket_type_id
        if seats is not None:
            assert self.available == seats.get(SeatState.AVAILABLE, 0)
            for withholding, state in WITHHOLDING_SEAT_STATES.items():
                assert self.withheld[withholding] == seats.get(state, 0)


def starting_counts(configuration: InventoryConfiguration) -> dict[TicketTypeId, UnitCounts]:
    """Every type's units available: a general type's capacity, a seated type's seats."""
    seat_counts: dict[TicketTypeId, int] = {}
    for section in configuration.sections:
        seats = sum(row.seats for row in section.rows)
        seat_counts[section.ticket_type_id] = seat_counts.get(section.ticket_type_id, 0) + seats
    counts: dict[TicketTypeId, UnitCounts] = {}
    for ticket_type in configuration.ticket_types:
        capacity = (
            ticket_type.capacity
            if ticket_type.kind is TicketKind.GENERAL
            else seat_counts[ticket_type.ticket_type_id]
        )
        counts[ticket_type.ticket_type_id] = UnitCounts(capacity=capacity, available=capacity)
    return counts


def withheld_unit_rows(
    counts: Mapping[TicketTypeId, UnitCounts],
    ticket_types: Mapping[TicketTypeId, TicketTypeDefinition],
) -> tuple[WithheldUnitsRow, ...]:
    """The general types' withheld units; a seated type's are its seats' states."""
    return tuple(
        WithheldUnitsRow(ticket_type_id=ticket_type_id, withholding=withholding, quantity=quantity)
        for ticket_type_id, type_counts in sorted(counts.items())
        if ticket_types[ticket_type_id].kind is TicketKind.GENERAL
        for withholding, quantity in type_counts.withheld.items()
        if quantity
    )


def withheld_seats(seats: Iterable[SeatRow]) -> dict[Withholding, list[SeatId]]:
    """The seats each withholding blocks, from the seats' stored states."""
    seat_ids: dict[Withholding, list[SeatId]] = {}
    for seat in seats:
        withholding = SEAT_STATE_WITHHOLDINGS.get(seat.state)
        if withholding is not None:
            seat_ids.setdefault(withholding, []).append(seat.seat_id)
    return seat_ids
