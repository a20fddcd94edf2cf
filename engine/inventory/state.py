"""The hot state of one event's inventory: counts per ticket type, seat states, live holds and
sales, the fans' tallies, the wait list and the idempotency records, with the moves that keep them
consistent.

Queries read it freely; only engine.inventory.apply (and `rebuild`) call its moves.
"""

import dataclasses
from collections.abc import Iterable, Sequence

import msgspec

from engine.commands import Withholding
from engine.holds import ExpirySchedule, Hold, Sale
from engine.ids import CodeId, FanId, HoldId, IdempotencyKey, OrderId, SeatId, TicketTypeId
from engine.inventory.codes import CodeDefinition, CodeTally, recount_code_tallies
from engine.inventory.configuration import (
    InventoryConfiguration,
    TicketKind,
    TicketTypeDefinition,
    validate_configuration,
)
from engine.inventory.rows import InventoryRows, SeatRow
from engine.inventory.unit_counts import (
    SEAT_STATE_WITHHOLDINGS,
    WITHHOLDING_SEAT_STATES,
    TicketTypeCounts,
    starting_counts,
    withheld_seats,
    withheld_unit_rows,
)
from engine.inventory.wait_list import WaitList
from engine.outcomes import IdempotencyRecord
from engine.seat_map import SeatMap, SeatState, SeatStates


class Inventory:
    """The hot state of one event's inventory; change it only through `apply`.

    The moves after `__eq__` keep counts, seat states, the expiry schedule and the fans' tallies in
    step; only `apply` and `rebuild` call them, and each asserts the state it leaves.
    """

    def __init__(self, configuration: InventoryConfiguration) -> None:
        problem = validate_configuration(configuration)
        assert problem is None, problem
        self.configuration = configuration
        self.ticket_types = {
            ticket_type.ticket_type_id: ticket_type for ticket_type in configuration.ticket_types
        }
        self.seat_map = SeatMap(configuration.sections)
        self.seat_states = SeatStates(self.seat_map)
        self.counts = starting_counts(configuration)
        self.holds: dict[HoldId, Hold] = {}
        self.expiry = ExpirySchedule()
        self.sales: dict[OrderId, Sale] = {}
        self.tickets_by_fan: dict[FanId, int] = {}
        self.idempotency_records: dict[IdempotencyKey, IdempotencyRecord] = {}
        self.wait_list = WaitList()
        self.paused = False
        self.cancelled = False
        self.codes: dict[CodeId, CodeDefinition] = {}
        self.code_ids_by_key: dict[str, CodeId] = {}
        self.code_tallies: dict[CodeId, CodeTally] = {}

    @classmethod
    def rebuild(cls, rows: InventoryRows) -> "Inventory":
        inventory = cls(rows.configuration)
        inventory.paused = rows.paused
        inventory.cancelled = rows.cancelled
        for code in rows.codes:
            inventory.add_code(code)
        for withheld in rows.withheld_units:
            inventory.withhold_units(
                withheld.ticket_type_id, withheld.quantity, withheld.withholding
            )
        for withholding, seats in withheld_seats(rows.seats).items():
            inventory.block_seats(seats, withholding)
        for hold in rows.holds:
            inventory.add_hold(hold)
        for sale in rows.sales:
            inventory.add_sale(sale)
        for record in rows.idempotency_records:
            inventory.idempotency_records[record.key] = record
        for entry in rows.wait_list:
            inventory.wait_list.add(entry)
        for seat in rows.seats:
            seat_index = inventory.seat_map.seat_index(seat.seat_id)
            assert seat_index is not None, seat.seat_id
            assert inventory.seat_states.states[seat_index] == seat.state, seat.seat_id
        assert len(rows.seats) == len(
            inventory.seat_states.states
        ) - inventory.seat_states.states.count(0)
        return inventory

    def rows(self) -> InventoryRows:
        states = self.seat_states.states
        seats = tuple(
            SeatRow(seat_id=self.seat_map.label(seat_index), state=SeatState(state))
            for seat_index, state in enumerate(states)
            if state != SeatState.AVAILABLE
        )
        return InventoryRows(
            configuration=self.configuration,
            paused=self.paused,
            cancelled=self.cancelled,
            seats=seats,
            withheld_units=withheld_unit_rows(self.counts, self.ticket_types),
            holds=tuple(hold for _, hold in sorted(self.holds.items())),
            sales=tuple(sale for _, sale in sorted(self.sales.items())),
            idempotency_records=tuple(self.idempotency_records.values()),
            wait_list=self.wait_list.rows(),
            codes=tuple(code for _, code in sorted(self.codes.items())),
        )

    def ticket_type_counts(self, ticket_type_id: TicketTypeId) -> TicketTypeCounts:
        counts = self.counts[ticket_type_id]
        return TicketTypeCounts(
            ticket_type_id=ticket_type_id,
            capacity=counts.capacity,
            available=counts.available,
            held=counts.held,
            sold=counts.sold,
            withheld=sum(counts.withheld.values()),
        )

    def tickets_of_fan(self, fan_id: FanId) -> int:
        """Tickets the fan holds or bought (comps excluded): what the per-fan limit counts."""
        return self.tickets_by_fan.get(fan_id, 0)

    def is_on_sale(self, now_ms: int) -> bool:
        configuration = self.configuration
        return (
            not (self.paused or self.cancelled)
            and configuration.opens_at_ms <= now_ms < configuration.closes_at_ms
        )

    def seat_state(self, seat_id: SeatId) -> SeatState:
        seat_index = self.seat_map.seat_index(seat_id)
        assert seat_index is not None, seat_id
        return self.seat_states.state(seat_index)

    def assert_consistent(self) -> None:
        """Recount everything from holds, sales and seat bytes; a difference is a bug."""
        held: dict[TicketTypeId, int] = dict.fromkeys(self.counts, 0)
        sold: dict[TicketTypeId, int] = dict.fromkeys(self.counts, 0)
        tickets_by_fan: dict[FanId, int] = {}
        claimed_seats: dict[int, SeatState] = {}
        for hold in self.holds.values():
            for item in hold.items:
                held[item.ticket_type_id] += item.quantity
            tickets_by_fan[hold.fan_id] = tickets_by_fan.get(hold.fan_id, 0) + hold.quantity
            for seat_index in self.seat_indexes(hold.seats):
                assert seat_index not in claimed_seats, f"seat {seat_index} claimed twice"
                claimed_seats[seat_index] = SeatState.HELD
        for sale in self.sales.values():
            for item in sale.items:
                sold[item.ticket_type_id] += item.quantity
            if not sale.complimentary:
                tickets_by_fan[sale.fan_id] = tickets_by_fan.get(sale.fan_id, 0) + sale.quantity
            for seat_index in self.seat_indexes(sale.seats):
                assert seat_index not in claimed_seats, f"seat {seat_index} claimed twice"
                claimed_seats[seat_index] = SeatState.SOLD
        # No fan is checked against the per-fan limit: a lowered limit keeps what fans have.
        assert tickets_by_fan == self.tickets_by_fan
        for fan_id, tickets in tickets_by_fan.items():
            assert tickets > 0, fan_id
        seat_tallies: dict[TicketTypeId, dict[SeatState, int]] = {}
        for seat_index, state in enumerate(self.seat_states.states):
            expected = claimed_seats.get(seat_index)
            if expected is not None or state in (SeatState.HELD, SeatState.SOLD):
                assert state == expected, f"seat {seat_index} is {state}, expected {expected}"
            tally = seat_tallies.setdefault(self.seat_map.ticket_type_of(seat_index), {})
            tally[SeatState(state)] = tally.get(SeatState(state), 0) + 1
        for ticket_type_id, counts in self.counts.items():
            seated = self.ticket_types[ticket_type_id].kind is TicketKind.SEATED
            seats = seat_tallies[ticket_type_id] if seated else None
            counts.assert_recounted(
                ticket_type_id, held[ticket_type_id], sold[ticket_type_id], seats
            )
        expected_expiry = sorted((hold.expires_at_ms, hold.hold_id) for hold in self.holds.values())
        assert self.expiry.entries == expected_expiry
        seat_states = self.seat_states
        for row_index in range(len(self.seat_map.row_starts)):
            summary = (
                seat_states.longest_free_run_by_row[row_index],
                seat_states.orphan_free_quantities_by_row[row_index],
            )
            assert summary == seat_states.row_summary(row_index), row_index
        self.wait_list.assert_consistent(
            {hold_id: hold.fan_id for hold_id, hold in self.holds.items()}
        )
        self.assert_codes_consistent()

    def assert_codes_consistent(self) -> None:
        """Recount every code's tally from the holds and sales that name it; check its caps."""
        tallies = recount_code_tallies(self.codes, self.holds.values(), self.sales.values())
        assert tallies == self.code_tallies
        assert self.code_ids_by_key == {code.key: code_id for code_id, code in self.codes.items()}
        for code_id, tally in tallies.items():
            tally.assert_within_caps(self.codes[code_id])

    def comparable_state(self) -> tuple[object, ...]:
        return (
            self.rows(),
            {
                ticket_type_id: dataclasses.astuple(counts)
                for ticket_type_id, counts in self.counts.items()
            },
            self.tickets_by_fan,
            bytes(self.seat_states.states),
            bytes(self.seat_states.longest_free_run_by_row),
            bytes(self.seat_states.orphan_free_quantities_by_row),
            self.expiry.entries,
            self.wait_list.next_sequence,
            self.code_tallies,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Inventory):
            return NotImplemented
        return self.comparable_state() == other.comparable_state()

    __hash__ = None  # type: ignore[assignment]

    def seat_indexes(self, seat_ids: Iterable[SeatId]) -> list[int]:
        seat_indexes = [self.seat_map.seat_index(seat_id) for seat_id in seat_ids]
        assert None not in seat_indexes
        return [seat_index for seat_index in seat_indexes if seat_index is not None]

    def move_seats(self, seat_ids: Sequence[SeatId], before: SeatState, after: SeatState) -> None:
        if not seat_ids:
            return
        seat_indexes = self.seat_indexes(seat_ids)
        states = self.seat_states.states
        assert all(states[seat_index] == before for seat_index in seat_indexes)
        self.seat_states.set_states(seat_indexes, after)

    def add_tickets_of_fan(self, fan_id: FanId, quantity: int) -> None:
        tickets = self.tickets_by_fan.get(fan_id, 0) + quantity
        assert tickets >= 0
        if tickets:
            self.tickets_by_fan[fan_id] = tickets
        else:
            self.tickets_by_fan.pop(fan_id, None)

    def add_hold(self, hold: Hold) -> None:
        assert hold.hold_id not in self.holds
        for item in hold.items:
            counts = self.counts[item.ticket_type_id]
            assert counts.available >= item.quantity
            counts.available -= item.quantity
            counts.held += item.quantity
        self.move_seats(hold.seats, SeatState.AVAILABLE, SeatState.HELD)
        self.holds[hold.hold_id] = hold
        self.expiry.add(hold)
        self.add_tickets_of_fan(hold.fan_id, hold.quantity)
        if hold.code_id is not None:
            self.code_tallies[hold.code_id].take(hold.fan_id, held=1, uses=0)

    def remove_hold(self, hold: Hold) -> None:
        for item in hold.items:
            counts = self.counts[item.ticket_type_id]
            counts.held -= item.quantity
            counts.available += item.quantity
        self.move_seats(hold.seats, SeatState.HELD, SeatState.AVAILABLE)
        del self.holds[hold.hold_id]
        self.expiry.remove(hold)
        self.add_tickets_of_fan(hold.fan_id, -hold.quantity)
        if hold.code_id is not None:
            self.code_tallies[hold.code_id].take(hold.fan_id, held=-1, uses=0)

    def add_sale(self, sale: Sale) -> None:
        assert sale.order_id not in self.sales
        for item in sale.items:
            counts = self.counts[item.ticket_type_id]
            assert counts.available >= item.quantity
            counts.available -= item.quantity
            counts.sold += item.quantity
        self.move_seats(sale.seats, SeatState.AVAILABLE, SeatState.SOLD)
        self.sales[sale.order_id] = sale
        if not sale.complimentary:
            self.add_tickets_of_fan(sale.fan_id, sale.quantity)
        if sale.code_id is not None:
            self.code_tallies[sale.code_id].take(sale.fan_id, held=0, uses=1)

    def remove_sale(self, sale: Sale) -> None:
        for item in sale.items:
            counts = self.counts[item.ticket_type_id]
            counts.sold -= item.quantity
            counts.available += item.quantity
        self.move_seats(sale.seats, SeatState.SOLD, SeatState.AVAILABLE)
        del self.sales[sale.order_id]
        if not sale.complimentary:
            self.add_tickets_of_fan(sale.fan_id, -sale.quantity)
        if sale.code_id is not None:
            self.code_tallies[sale.code_id].take(sale.fan_id, held=0, uses=-1)

    def add_code(self, code: CodeDefinition) -> None:
        assert code.code_id not in self.codes and code.key not in self.code_ids_by_key
        self.codes[code.code_id] = code
        self.code_ids_by_key[code.key] = code.code_id
        self.code_tallies[code.code_id] = CodeTally()

    def code_of_text(self, text: str) -> CodeDefinition | None:
        code_id = self.code_ids_by_key.get(text.upper())
        return None if code_id is None else self.codes[code_id]

    def block_seats(self, seat_ids: Iterable[SeatId], withholding: Withholding) -> None:
        seat_indexes = self.seat_indexes(seat_ids)
        states = self.seat_states.states
        for seat_index in seat_indexes:
            assert states[seat_index] == SeatState.AVAILABLE
            counts = self.counts[self.seat_map.ticket_type_of(seat_index)]
            counts.available -= 1
            counts.withheld[withholding] += 1
        self.seat_states.set_states(seat_indexes, WITHHOLDING_SEAT_STATES[withholding])

    def unblock_seats(self, seat_ids: Iterable[SeatId]) -> None:
        seat_indexes = self.seat_indexes(seat_ids)
        states = self.seat_states.states
        for seat_index in seat_indexes:
            withholding = SEAT_STATE_WITHHOLDINGS[SeatState(states[seat_index])]
            counts = self.counts[self.seat_map.ticket_type_of(seat_index)]
            counts.withheld[withholding] -= 1
            counts.available += 1
        self.seat_states.set_states(seat_indexes, SeatState.AVAILABLE)

    def add_capacity(self, ticket_type_id: TicketTypeId, quantity: int) -> None:
        """A general type grows: more capacity, all of it available, in the configuration too."""
        ticket_type = self.ticket_types[ticket_type_id]
        assert ticket_type.kind is TicketKind.GENERAL and quantity > 0, ticket_type_id
        counts = self.counts[ticket_type_id]
        counts.capacity += quantity
        counts.available += quantity
        self._set_ticket_type(
            msgspec.structs.replace(ticket_type, capacity=ticket_type.capacity + quantity)
        )
        assert counts.capacity == ticket_type.capacity + quantity, ticket_type_id

    def replace_ticket_type(self, ticket_type: TicketTypeDefinition) -> None:
        """A type's sale settings changed: the configuration and the lookup carry the new ones."""
        old = self.ticket_types[ticket_type.ticket_type_id]
        assert (old.kind, old.capacity) == (ticket_type.kind, ticket_type.capacity), old
        self._set_ticket_type(ticket_type)

    def _set_ticket_type(self, ticket_type: TicketTypeDefinition) -> None:
        ticket_type_id = ticket_type.ticket_type_id
        self.ticket_types[ticket_type_id] = ticket_type
        self.configuration = msgspec.structs.replace(
            self.configuration,
            ticket_types=tuple(
                ticket_type if known.ticket_type_id == ticket_type_id else known
                for known in self.configuration.ticket_types
            ),
        )

    def withhold_units(
        self, ticket_type_id: TicketTypeId, quantity: int, withholding: Withholding
    ) -> None:
        counts = self.counts[ticket_type_id]
        assert counts.available >= quantity
        counts.available -= quantity
        counts.withheld[withholding] += quantity

    def return_withheld_units(
        self, ticket_type_id: TicketTypeId, quantity: int, withholding: Withholding
    ) -> None:
        counts = self.counts[ticket_type_id]
        assert counts.withheld[withholding] >= quantity
        counts.withheld[withholding] -= quantity
        counts.available += quantity
