"""The inventory of one event: ticket types, seats, live holds and sales, decided and applied.

`decide(inventory, command, now_ms)` returns a `Decision` (the outcome and the changes to record) or
a `Rejected`, and changes nothing; `apply(inventory, change)` is the only code that changes an
inventory; `execute` does both for one command. `Inventory.rows()` is everything persistence keeps
and `Inventory.rebuild(rows)` reads it back into an equal inventory. A command rejected under an
idempotency key records nothing, so its retry is decided afresh.
"""

import dataclasses
import enum
import itertools
from collections.abc import Iterable, Sequence
from typing import TypeVar, assert_never

import msgspec

from engine import limits
from engine.changes import (
    Change,
    CompsIssued,
    HoldConverted,
    HoldExtended,
    HoldPlaced,
    HoldReleased,
    HoldsExpired,
    IdempotencyKeyRecorded,
    IdempotencyKeysForgotten,
    OrderCancelled,
    OrderRefunded,
    SalePaused,
    SaleResumed,
    SaleSettingsChanged,
    SeatsBlocked,
    SeatsUnblocked,
    UnitsWithheld,
    WithheldUnitsReturned,
)
from engine.commands import (
    BlockSeats,
    CancelOrder,
    ChangeSaleSettings,
    Command,
    ConvertHold,
    ExpireHolds,
    ExtendHold,
    HoldBestAvailable,
    HoldSeats,
    IssueComps,
    ItemRequest,
    PauseSale,
    PlaceHold,
    RefundOrder,
    ReleaseHold,
    ResumeSale,
    ReturnWithheldUnits,
    UnblockSeats,
    Withholding,
    WithholdUnits,
    fingerprint,
)
from engine.holds import ExpirySchedule, Hold, HoldItem, Sale
from engine.ids import FanId, HoldId, IdempotencyKey, OrderId, SeatId, TicketTypeId
from engine.outcomes import (
    Acknowledged,
    ExpiryReport,
    HoldView,
    IdempotencyRecord,
    Outcome,
    SaleView,
)
from engine.pricing import price_order
from engine.rejections import Reason, Rejected
from engine.seat_map import SeatMap, SeatState, SeatStates, SectionLayout

MILLISECONDS_PER_SECOND = 1_000
SEAT_ID_FORBIDDEN_CHARACTER = "-"
Setting = TypeVar("Setting")


class TicketKind(enum.StrEnum):
    GENERAL = "general"
    SEATED = "seated"


class TicketTypeDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket type; `capacity` is given for general admission, counted from seats when seated."""

    ticket_type_id: TicketTypeId
    kind: TicketKind
    price_cents: int
    capacity: int = 0


class InventoryConfiguration(msgspec.Struct, frozen=True, kw_only=True):
    """`max_tickets_per_user` is None when the event sets no per-fan limit."""

    opens_at_ms: int
    closes_at_ms: int
    hold_ttl_ms: int
    max_tickets_per_user: int | None
    ticket_types: tuple[TicketTypeDefinition, ...]
    sections: tuple[SectionLayout, ...] = ()


class SeatRow(msgspec.Struct, frozen=True, kw_only=True):
    """A seat that is not available; a seat with no row is available."""

    seat_id: SeatId
    state: SeatState


class WithheldUnitsRow(msgspec.Struct, frozen=True, kw_only=True):
    ticket_type_id: TicketTypeId
    withholding: Withholding
    quantity: int


class InventoryRows(msgspec.Struct, frozen=True, kw_only=True):
    """Everything persistence keeps of one event's inventory, in a canonical order.

    Seats list only seats that are not available; holds and sales are sorted by id; idempotency
    records come in the order they were recorded (expiry forgets the oldest first).
    """

    configuration: InventoryConfiguration
    paused: bool
    seats: tuple[SeatRow, ...]
    withheld_units: tuple[WithheldUnitsRow, ...]
    holds: tuple[Hold, ...]
    sales: tuple[Sale, ...]
    idempotency_records: tuple[IdempotencyRecord, ...]


class TicketTypeCounts(msgspec.Struct, frozen=True, kw_only=True):
    """`sold + held + available == capacity - withheld` at every instant."""

    ticket_type_id: TicketTypeId
    capacity: int
    available: int
    held: int
    sold: int
    withheld: int


class Decision(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    outcome: Outcome
    changes: tuple[Change, ...]


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


def _sale_settings_problems(
    opens_at_ms: int, closes_at_ms: int, hold_ttl_ms: int, max_tickets_per_user: int | None
) -> dict[str, str]:
    """What is wrong with the sale's settings, by the field at fault."""
    problems: dict[str, str] = {}
    if opens_at_ms >= closes_at_ms:
        problems["closes_at"] = "closes_at must be after opens_at"
    ttl_s_bounds = (limits.HOLD_TTL_S_MIN, limits.HOLD_TTL_S_MAX)
    if not (
        ttl_s_bounds[0] * MILLISECONDS_PER_SECOND
        <= hold_ttl_ms
        <= ttl_s_bounds[1] * MILLISECONDS_PER_SECOND
        and hold_ttl_ms % MILLISECONDS_PER_SECOND == 0
    ):
        problems["hold_ttl_s"] = (
            f"hold_ttl_s must be whole seconds between {ttl_s_bounds[0]} and {ttl_s_bounds[1]}"
        )
    if max_tickets_per_user is not None and not (
        1 <= max_tickets_per_user <= limits.TICKETS_PER_USER_MAX
    ):
        problems["max_tickets_per_user"] = (
            f"max_tickets_per_user must be between 1 and {limits.TICKETS_PER_USER_MAX}, or none"
        )
    return problems


def validate_configuration(configuration: InventoryConfiguration) -> Rejected | None:
    """Why a configuration cannot make an inventory, or None when it can."""
    problems = list(
        _sale_settings_problems(
            configuration.opens_at_ms,
            configuration.closes_at_ms,
            configuration.hold_ttl_ms,
            configuration.max_tickets_per_user,
        ).values()
    )
    ticket_types = configuration.ticket_types
    if not 1 <= len(ticket_types) <= limits.TICKET_TYPES_PER_EVENT_MAX:
        problems.append(f"an event has 1 to {limits.TICKET_TYPES_PER_EVENT_MAX} ticket types")
    kinds = {ticket_type.ticket_type_id: ticket_type.kind for ticket_type in ticket_types}
    if len(kinds) != len(ticket_types):
        problems.append("ticket type ids must be unique")
    for ticket_type in ticket_types:
        if ticket_type.price_cents < 0:
            problems.append(f"{ticket_type.ticket_type_id}: price_cents must not be negative")
        if ticket_type.kind is TicketKind.GENERAL and not (
            1 <= ticket_type.capacity <= limits.CAPACITY_PER_TICKET_TYPE_MAX
        ):
            problems.append(f"{ticket_type.ticket_type_id}: capacity out of bounds")
        if ticket_type.kind is TicketKind.SEATED and ticket_type.capacity != 0:
            problems.append(f"{ticket_type.ticket_type_id}: a seated capacity is its seat count")
    problems.extend(_seat_map_problems(configuration.sections, kinds))
    if not problems:
        return None
    return Rejected(
        reason=Reason.VALIDATION_ERROR,
        message="; ".join(problems),
        details={"problems": problems},
    )


def _seat_map_problems(
    sections: Sequence[SectionLayout], kinds: dict[TicketTypeId, TicketKind]
) -> list[str]:
    problems: list[str] = []
    if len(sections) > limits.SECTIONS_PER_EVENT_MAX:
        problems.append(f"an event has at most {limits.SECTIONS_PER_EVENT_MAX} sections")
    if len({section.section_id for section in sections}) != len(sections):
        problems.append("section ids must be unique")
    seat_count = 0
    for section in sections:
        name = section.section_id
        if not name or SEAT_ID_FORBIDDEN_CHARACTER in name:
            problems.append(f"section id {name!r} must be non-empty and without '-'")
        if kinds.get(section.ticket_type_id) is not TicketKind.SEATED:
            problems.append(f"section {name}: ticket type must be a seated type of this event")
        if not 1 <= len(section.rows) <= limits.ROWS_PER_SECTION_MAX:
            problems.append(f"section {name}: 1 to {limits.ROWS_PER_SECTION_MAX} rows")
        if len({row.row_id for row in section.rows}) != len(section.rows):
            problems.append(f"section {name}: row ids must be unique")
        for row in section.rows:
            if not row.row_id or SEAT_ID_FORBIDDEN_CHARACTER in row.row_id:
                problems.append(f"section {name}: row id {row.row_id!r} is not usable")
            if not 1 <= row.seats <= limits.SEATS_PER_ROW_MAX:
                problems.append(f"section {name} row {row.row_id}: 1 to 250 seats")
            seat_count += row.seats
    if seat_count > limits.SEATS_PER_EVENT_MAX:
        problems.append(f"an event has at most {limits.SEATS_PER_EVENT_MAX} seats")
    seated_with_sections = {section.ticket_type_id for section in sections}
    for ticket_type_id, kind in kinds.items():
        if kind is TicketKind.SEATED and ticket_type_id not in seated_with_sections:
            problems.append(f"{ticket_type_id}: a seated type needs at least one section")
    return problems


class Inventory:
    """The hot state of one event's inventory; change it only through `apply`."""

    def __init__(self, configuration: InventoryConfiguration) -> None:
        assert validate_configuration(configuration) is None
        self.configuration = configuration
        self.ticket_types = {
            ticket_type.ticket_type_id: ticket_type for ticket_type in configuration.ticket_types
        }
        self.seat_map = SeatMap(configuration.sections)
        self.seat_states = SeatStates(self.seat_map)
        seat_counts: dict[TicketTypeId, int] = {}
        for section in configuration.sections:
            seats = sum(row.seats for row in section.rows)
            seat_counts[section.ticket_type_id] = seat_counts.get(section.ticket_type_id, 0) + seats
        self.counts: dict[TicketTypeId, UnitCounts] = {}
        for ticket_type in configuration.ticket_types:
            capacity = (
                ticket_type.capacity
                if ticket_type.kind is TicketKind.GENERAL
                else seat_counts[ticket_type.ticket_type_id]
            )
            self.counts[ticket_type.ticket_type_id] = UnitCounts(
                capacity=capacity, available=capacity
            )
        self.holds: dict[HoldId, Hold] = {}
        self.expiry = ExpirySchedule()
        self.sales: dict[OrderId, Sale] = {}
        self.tickets_by_fan: dict[FanId, int] = {}
        self.idempotency_records: dict[IdempotencyKey, IdempotencyRecord] = {}
        self.paused = False

    @classmethod
    def rebuild(cls, rows: InventoryRows) -> "Inventory":
        inventory = cls(rows.configuration)
        inventory.paused = rows.paused
        for withheld in rows.withheld_units:
            _withhold_units(
                inventory, withheld.ticket_type_id, withheld.quantity, withheld.withholding
            )
        withheld_seats: dict[Withholding, list[SeatId]] = {}
        for seat in rows.seats:
            withholding = SEAT_STATE_WITHHOLDINGS.get(seat.state)
            if withholding is not None:
                withheld_seats.setdefault(withholding, []).append(seat.seat_id)
        for withholding, seats in withheld_seats.items():
            _block_seats(inventory, seats, withholding)
        for hold in rows.holds:
            _add_hold(inventory, hold)
        for sale in rows.sales:
            _add_sale(inventory, sale)
        for record in rows.idempotency_records:
            inventory.idempotency_records[record.key] = record
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
        withheld_units = tuple(
            WithheldUnitsRow(
                ticket_type_id=ticket_type_id, withholding=withholding, quantity=quantity
            )
            for ticket_type_id, counts in sorted(self.counts.items())
            if self.ticket_types[ticket_type_id].kind is TicketKind.GENERAL
            for withholding, quantity in counts.withheld.items()
            if quantity
        )
        return InventoryRows(
            configuration=self.configuration,
            paused=self.paused,
            seats=seats,
            withheld_units=withheld_units,
            holds=tuple(hold for _, hold in sorted(self.holds.items())),
            sales=tuple(sale for _, sale in sorted(self.sales.items())),
            idempotency_records=tuple(self.idempotency_records.values()),
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
        return not self.paused and configuration.opens_at_ms <= now_ms < configuration.closes_at_ms

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
            for seat_index in _seat_indexes(self, hold.seats):
                assert seat_index not in claimed_seats, f"seat {seat_index} claimed twice"
                claimed_seats[seat_index] = SeatState.HELD
        for sale in self.sales.values():
            for item in sale.items:
                sold[item.ticket_type_id] += item.quantity
            if not sale.complimentary:
                tickets_by_fan[sale.fan_id] = tickets_by_fan.get(sale.fan_id, 0) + sale.quantity
            for seat_index in _seat_indexes(self, sale.seats):
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
            assert counts.held == held[ticket_type_id], ticket_type_id
            assert counts.sold == sold[ticket_type_id], ticket_type_id
            assert min(counts.available, counts.held, counts.sold, *counts.withheld.values()) >= 0
            total = counts.available + counts.held + counts.sold + sum(counts.withheld.values())
            assert total == counts.capacity, ticket_type_id
            if self.ticket_types[ticket_type_id].kind is TicketKind.SEATED:
                tally = seat_tallies[ticket_type_id]
                assert counts.available == tally.get(SeatState.AVAILABLE, 0)
                for withholding, state in WITHHOLDING_SEAT_STATES.items():
                    assert counts.withheld[withholding] == tally.get(state, 0)
        expected_expiry = sorted((hold.expires_at_ms, hold.hold_id) for hold in self.holds.values())
        assert self.expiry.entries == expected_expiry
        seat_states = self.seat_states
        for row_index in range(len(self.seat_map.row_starts)):
            summary = (
                seat_states.longest_free_run_by_row[row_index],
                seat_states.orphan_free_quantities_by_row[row_index],
            )
            assert summary == seat_states.row_summary(row_index), row_index

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
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Inventory):
            return NotImplemented
        return self.comparable_state() == other.comparable_state()

    __hash__ = None  # type: ignore[assignment]


def reject(reason: Reason, message: str, **details: object) -> Rejected:
    return Rejected(reason=reason, message=message, details=details)


def execute(inventory: Inventory, command: Command, now_ms: int) -> Decision | Rejected:
    """Decide one command and apply its changes: the shell's single call per command."""
    decision = decide(inventory, command, now_ms)
    if isinstance(decision, Decision):
        for change in decision.changes:
            apply(inventory, change)
    return decision


def decide(inventory: Inventory, command: Command, now_ms: int) -> Decision | Rejected:
    key = getattr(command, "idempotency_key", None)
    if key is None:
        return _decide_fresh(inventory, command, now_ms)
    if not (1 <= len(key) <= limits.IDEMPOTENCY_KEY_CHARACTERS_MAX and key.isprintable()):
        return reject(
            Reason.VALIDATION_ERROR, "the idempotency key must be 1-255 printable characters"
        )
    command_fingerprint = fingerprint(command)
    record = inventory.idempotency_records.get(key)
    if record is not None:
        if record.fingerprint != command_fingerprint:
            return reject(
                Reason.IDEMPOTENCY_CONFLICT, "this idempotency key was used for another request"
            )
        return Decision(outcome=record.outcome, changes=())
    decision = _decide_fresh(inventory, command, now_ms)
    if isinstance(decision, Rejected):
        return decision
    record = IdempotencyRecord(
        key=key, fingerprint=command_fingerprint, outcome=decision.outcome, recorded_at_ms=now_ms
    )
    return Decision(
        outcome=decision.outcome,
        changes=(*decision.changes, IdempotencyKeyRecorded(record=record)),
    )


def _decide_fresh(inventory: Inventory, command: Command, now_ms: int) -> Decision | Rejected:
    match command:
        case PlaceHold():
            return _decide_place_hold(inventory, command, now_ms)
        case HoldSeats():
            return _decide_hold_seats(inventory, command, now_ms)
        case HoldBestAvailable():
            return _decide_hold_best_available(inventory, command, now_ms)
        case ReleaseHold():
            return _decide_release_hold(inventory, command, now_ms)
        case ExpireHolds():
            return _decide_expire_holds(inventory, now_ms)
        case ExtendHold():
            return _decide_extend_hold(inventory, command, now_ms)
        case ConvertHold():
            return _decide_convert_hold(inventory, command, now_ms)
        case RefundOrder() | CancelOrder():
            return _decide_return_order(inventory, command)
        case IssueComps():
            return _decide_issue_comps(inventory, command)
        case BlockSeats():
            return _decide_block_seats(inventory, command)
        case UnblockSeats():
            return _decide_unblock_seats(inventory, command)
        case WithholdUnits():
            return _decide_withhold_units(inventory, command)
        case ReturnWithheldUnits():
            return _decide_return_withheld_units(inventory, command)
        case PauseSale():
            changes: tuple[Change, ...] = () if inventory.paused else (SalePaused(),)
            return Decision(outcome=Acknowledged(), changes=changes)
        case ResumeSale():
            changes = (SaleResumed(),) if inventory.paused else ()
            return Decision(outcome=Acknowledged(), changes=changes)
        case ChangeSaleSettings():
            return _decide_change_sale_settings(inventory, command)
        case _:
            assert_never(command)


def _check_new_hold(
    inventory: Inventory, hold_id: HoldId, fan_id: FanId, quantity: int, now_ms: int
) -> Rejected | None:
    if hold_id in inventory.holds:
        return reject(Reason.VALIDATION_ERROR, "this hold id is already in use")
    if not inventory.is_on_sale(now_ms):
        return reject(Reason.SALE_NOT_OPEN, "the sale is not open")
    limit = inventory.configuration.max_tickets_per_user
    if limit is not None and inventory.tickets_of_fan(fan_id) + quantity > limit:
        return reject(
            Reason.LIMIT_EXCEEDED,
            f"at most {limit} tickets per fan for this event",
            limit=limit,
            already=inventory.tickets_of_fan(fan_id),
        )
    return None


def _check_general_items(
    inventory: Inventory, items: Sequence[ItemRequest], tickets_max: int
) -> Rejected | None:
    if not 1 <= len(items) <= limits.ITEMS_PER_HOLD_MAX:
        return reject(Reason.VALIDATION_ERROR, f"1 to {limits.ITEMS_PER_HOLD_MAX} items")
    if len({item.ticket_type_id for item in items}) != len(items):
        return reject(Reason.VALIDATION_ERROR, "each ticket type appears once")
    for item in items:
        ticket_type = inventory.ticket_types.get(item.ticket_type_id)
        if ticket_type is None or ticket_type.kind is not TicketKind.GENERAL:
            return reject(
                Reason.VALIDATION_ERROR,
                "not a general admission ticket type of this event",
                ticket_type_id=item.ticket_type_id,
            )
        if item.quantity < 1:
            return reject(Reason.VALIDATION_ERROR, "quantities start at 1")
    if sum(item.quantity for item in items) > tickets_max:
        return reject(Reason.VALIDATION_ERROR, f"at most {tickets_max} tickets at once")
    return None


def _resolve_seats(
    inventory: Inventory, seat_ids: Sequence[SeatId], seats_max: int
) -> list[int] | Rejected:
    if not 1 <= len(seat_ids) <= seats_max:
        return reject(Reason.VALIDATION_ERROR, f"1 to {seats_max} seats")
    if len(set(seat_ids)) != len(seat_ids):
        return reject(Reason.VALIDATION_ERROR, "each seat appears once")
    seat_indexes = [inventory.seat_map.seat_index(seat_id) for seat_id in seat_ids]
    unknown = [
        seat_id
        for seat_id, seat_index in zip(seat_ids, seat_indexes, strict=True)
        if seat_index is None
    ]
    if unknown:
        return reject(Reason.VALIDATION_ERROR, "no such seats in this event", seats=unknown)
    return sorted(seat_index for seat_index in seat_indexes if seat_index is not None)


def _seat_items(
    inventory: Inventory, seat_indexes: Iterable[int], free: bool
) -> tuple[HoldItem, ...]:
    quantities: dict[TicketTypeId, int] = {}
    for seat_index in seat_indexes:
        ticket_type_id = inventory.seat_map.ticket_type_of(seat_index)
        quantities[ticket_type_id] = quantities.get(ticket_type_id, 0) + 1
    return tuple(
        HoldItem(
            ticket_type_id=ticket_type_id,
            quantity=quantity,
            unit_price_cents=0 if free else inventory.ticket_types[ticket_type_id].price_cents,
        )
        for ticket_type_id, quantity in quantities.items()
    )


def _placed(hold: Hold) -> Decision:
    return Decision(outcome=HoldView.of(hold), changes=(HoldPlaced(hold=hold),))


def _decide_place_hold(
    inventory: Inventory, command: PlaceHold, now_ms: int
) -> Decision | Rejected:
    rejected = _check_general_items(inventory, command.items, limits.UNITS_PER_GENERAL_HOLD_MAX)
    if rejected is None:
        quantity = sum(item.quantity for item in command.items)
        rejected = _check_new_hold(inventory, command.new_hold_id, command.fan_id, quantity, now_ms)
    if rejected is not None:
        return rejected
    short = [
        item.ticket_type_id
        for item in command.items
        if inventory.counts[item.ticket_type_id].available < item.quantity
    ]
    if short:
        return reject(Reason.SOLD_OUT, "not enough tickets left", ticket_type_ids=short)
    items = tuple(
        HoldItem(
            ticket_type_id=item.ticket_type_id,
            quantity=item.quantity,
            unit_price_cents=inventory.ticket_types[item.ticket_type_id].price_cents,
        )
        for item in command.items
    )
    hold = Hold(
        hold_id=command.new_hold_id,
        fan_id=command.fan_id,
        items=items,
        seats=(),
        expires_at_ms=now_ms + inventory.configuration.hold_ttl_ms,
    )
    return _placed(hold)


def _decide_hold_seats(
    inventory: Inventory, command: HoldSeats, now_ms: int
) -> Decision | Rejected:
    seat_indexes = _resolve_seats(inventory, command.seats, limits.SEATS_PER_HOLD_MAX)
    if isinstance(seat_indexes, Rejected):
        return seat_indexes
    rejected = _check_new_hold(
        inventory, command.new_hold_id, command.fan_id, len(seat_indexes), now_ms
    )
    if rejected is not None:
        return rejected
    states = inventory.seat_states.states
    unavailable = [index for index in seat_indexes if states[index] != SeatState.AVAILABLE]
    if unavailable:
        return reject(
            Reason.SEAT_UNAVAILABLE,
            "some seats are not available",
            seats=list(inventory.seat_map.labels(unavailable)),
        )
    return _placed(_seat_hold(inventory, command.new_hold_id, command.fan_id, seat_indexes, now_ms))


def _seat_hold(
    inventory: Inventory, hold_id: HoldId, fan_id: FanId, seat_indexes: Sequence[int], now_ms: int
) -> Hold:
    return Hold(
        hold_id=hold_id,
        fan_id=fan_id,
        items=_seat_items(inventory, seat_indexes, free=False),
        seats=inventory.seat_map.labels(seat_indexes),
        expires_at_ms=now_ms + inventory.configuration.hold_ttl_ms,
    )


def _decide_hold_best_available(
    inventory: Inventory, command: HoldBestAvailable, now_ms: int
) -> Decision | Rejected:
    ticket_type = inventory.ticket_types.get(command.ticket_type_id)
    if ticket_type is None or ticket_type.kind is not TicketKind.SEATED:
        return reject(
            Reason.VALIDATION_ERROR,
            "not a seated ticket type of this event",
            ticket_type_id=command.ticket_type_id,
        )
    if not 1 <= command.quantity <= limits.SEATS_PER_HOLD_MAX:
        return reject(Reason.VALIDATION_ERROR, f"1 to {limits.SEATS_PER_HOLD_MAX} seats")
    sections = inventory.seat_map.sections_by_ticket_type[command.ticket_type_id]
    if command.section is not None and command.section not in sections:
        return reject(
            Reason.VALIDATION_ERROR,
            "no such section for this ticket type",
            section=command.section,
        )
    rejected = _check_new_hold(
        inventory, command.new_hold_id, command.fan_id, command.quantity, now_ms
    )
    if rejected is not None:
        return rejected
    row_ranges = (
        [inventory.seat_map.section_rows[command.section]]
        if command.section is not None
        else inventory.seat_map.rows_of_ticket_type(command.ticket_type_id)
    )
    seat_indexes = inventory.seat_states.find_best_seats(
        row_ranges, command.quantity, command.contiguous
    )
    if seat_indexes is None:
        return reject(Reason.SOLD_OUT, "no seats left that fit this request")
    return _placed(_seat_hold(inventory, command.new_hold_id, command.fan_id, seat_indexes, now_ms))


def _live_hold_of_fan(
    inventory: Inventory, hold_id: HoldId, fan_id: FanId | None, now_ms: int
) -> Hold | Rejected:
    hold = inventory.holds.get(hold_id)
    if hold is None or (fan_id is not None and hold.fan_id != fan_id):
        return reject(Reason.NOT_FOUND, "no such live hold")
    if hold.expires_at_ms <= now_ms:
        return reject(Reason.HOLD_EXPIRED, "the hold has expired")
    return hold


def _decide_release_hold(
    inventory: Inventory, command: ReleaseHold, now_ms: int
) -> Decision | Rejected:
    hold = _live_hold_of_fan(inventory, command.hold_id, command.fan_id, now_ms)
    if isinstance(hold, Rejected):
        return hold
    return Decision(outcome=Acknowledged(), changes=(HoldReleased(hold_id=hold.hold_id),))


def _decide_expire_holds(inventory: Inventory, now_ms: int) -> Decision:
    expired = tuple(
        itertools.islice(inventory.expiry.due(now_ms), limits.HOLDS_EXPIRED_PER_COMMAND_MAX)
    )
    forget_before_ms = now_ms - limits.IDEMPOTENCY_KEY_TTL_S * MILLISECONDS_PER_SECOND
    forgotten = tuple(
        itertools.islice(
            itertools.takewhile(
                lambda key: inventory.idempotency_records[key].recorded_at_ms <= forget_before_ms,
                inventory.idempotency_records,
            ),
            limits.IDEMPOTENCY_KEYS_FORGOTTEN_PER_COMMAND_MAX,
        )
    )
    changes: list[Change] = []
    if expired:
        changes.append(HoldsExpired(hold_ids=expired))
    if forgotten:
        changes.append(IdempotencyKeysForgotten(keys=forgotten))
    report = ExpiryReport(expired_hold_ids=expired, forgotten_idempotency_keys=forgotten)
    return Decision(outcome=report, changes=tuple(changes))


def _decide_extend_hold(
    inventory: Inventory, command: ExtendHold, now_ms: int
) -> Decision | Rejected:
    hold = _live_hold_of_fan(inventory, command.hold_id, command.fan_id, now_ms)
    if isinstance(hold, Rejected):
        return hold
    if hold.extensions >= limits.HOLD_EXTENSIONS_MAX:
        return Decision(outcome=HoldView.of(hold), changes=())
    expires_at_ms = max(
        hold.expires_at_ms, now_ms + limits.CHECKOUT_WINDOW_S * MILLISECONDS_PER_SECOND
    )
    extended = msgspec.structs.replace(
        hold, expires_at_ms=expires_at_ms, extensions=hold.extensions + 1
    )
    change = HoldExtended(hold_id=hold.hold_id, expires_at_ms=expires_at_ms)
    return Decision(outcome=HoldView.of(extended), changes=(change,))


def _decide_convert_hold(
    inventory: Inventory, command: ConvertHold, now_ms: int
) -> Decision | Rejected:
    hold = _live_hold_of_fan(inventory, command.hold_id, None, now_ms)
    if isinstance(hold, Rejected):
        return hold
    if command.new_order_id in inventory.sales:
        return reject(Reason.VALIDATION_ERROR, "this order id is already in use")
    sale = Sale(
        order_id=command.new_order_id, fan_id=hold.fan_id, items=hold.items, seats=hold.seats
    )
    change = HoldConverted(hold_id=hold.hold_id, sale=sale, price=price_order(sale.subtotal_cents))
    return Decision(outcome=SaleView.of(sale), changes=(change,))


def _decide_return_order(
    inventory: Inventory, command: RefundOrder | CancelOrder
) -> Decision | Rejected:
    sale = inventory.sales.get(command.order_id)
    if sale is None:
        return reject(Reason.NOT_FOUND, "no such sold order")
    change: Change = (
        OrderRefunded(order_id=sale.order_id)
        if isinstance(command, RefundOrder)
        else OrderCancelled(order_id=sale.order_id)
    )
    return Decision(outcome=SaleView.of(sale), changes=(change,))


def _decide_issue_comps(inventory: Inventory, command: IssueComps) -> Decision | Rejected:
    if command.allocation is Withholding.KILL:
        return reject(Reason.VALIDATION_ERROR, "comps come from an allocation, not from kills")
    if bool(command.seats) == bool(command.items):
        return reject(Reason.VALIDATION_ERROR, "give either seats or items")
    if command.new_order_id in inventory.sales:
        return reject(Reason.VALIDATION_ERROR, "this order id is already in use")
    if command.seats:
        seat_indexes = _resolve_seats(inventory, command.seats, limits.TICKETS_PER_COMP_ORDER_MAX)
        if isinstance(seat_indexes, Rejected):
            return seat_indexes
        allocated = WITHHOLDING_SEAT_STATES[command.allocation]
        states = inventory.seat_states.states
        outside = [index for index in seat_indexes if states[index] != allocated]
        if outside:
            return reject(
                Reason.SEAT_UNAVAILABLE,
                f"some seats are not set aside for {command.allocation}",
                seats=list(inventory.seat_map.labels(outside)),
            )
        items = _seat_items(inventory, seat_indexes, free=True)
        seats = inventory.seat_map.labels(seat_indexes)
    else:
        rejected = _check_general_items(inventory, command.items, limits.TICKETS_PER_COMP_ORDER_MAX)
        if rejected is not None:
            return rejected
        short = [
            item.ticket_type_id
            for item in command.items
            if inventory.counts[item.ticket_type_id].withheld[command.allocation] < item.quantity
        ]
        if short:
            return reject(Reason.SOLD_OUT, "not enough set aside", ticket_type_ids=short)
        items = tuple(
            HoldItem(ticket_type_id=item.ticket_type_id, quantity=item.quantity, unit_price_cents=0)
            for item in command.items
        )
        seats = ()
    sale = Sale(
        order_id=command.new_order_id,
        fan_id=command.fan_id,
        items=items,
        seats=seats,
        complimentary=True,
    )
    change = CompsIssued(sale=sale, allocation=command.allocation)
    return Decision(outcome=SaleView.of(sale), changes=(change,))


def _decide_block_seats(inventory: Inventory, command: BlockSeats) -> Decision | Rejected:
    seat_indexes = _resolve_seats(inventory, command.seats, limits.SEATS_PER_VENUE_COMMAND_MAX)
    if isinstance(seat_indexes, Rejected):
        return seat_indexes
    states = inventory.seat_states.states
    taken = [index for index in seat_indexes if states[index] != SeatState.AVAILABLE]
    if taken:
        return reject(
            Reason.SEAT_UNAVAILABLE,
            "only available seats can be blocked",
            seats=list(inventory.seat_map.labels(taken)),
        )
    change = SeatsBlocked(
        seats=inventory.seat_map.labels(seat_indexes), withholding=command.withholding
    )
    return Decision(outcome=Acknowledged(), changes=(change,))


def _decide_unblock_seats(inventory: Inventory, command: UnblockSeats) -> Decision | Rejected:
    seat_indexes = _resolve_seats(inventory, command.seats, limits.SEATS_PER_VENUE_COMMAND_MAX)
    if isinstance(seat_indexes, Rejected):
        return seat_indexes
    states = inventory.seat_states.states
    not_blocked = [index for index in seat_indexes if states[index] not in SEAT_STATE_WITHHOLDINGS]
    if not_blocked:
        return reject(
            Reason.SEAT_UNAVAILABLE,
            "only blocked or set-aside seats can be unblocked",
            seats=list(inventory.seat_map.labels(not_blocked)),
        )
    change = SeatsUnblocked(seats=inventory.seat_map.labels(seat_indexes))
    return Decision(outcome=Acknowledged(), changes=(change,))


def _check_units_request(
    inventory: Inventory, command: WithholdUnits | ReturnWithheldUnits
) -> Rejected | None:
    ticket_type = inventory.ticket_types.get(command.ticket_type_id)
    if ticket_type is None or ticket_type.kind is not TicketKind.GENERAL:
        return reject(
            Reason.VALIDATION_ERROR,
            "not a general admission ticket type of this event",
            ticket_type_id=command.ticket_type_id,
        )
    if not 1 <= command.quantity <= limits.CAPACITY_PER_TICKET_TYPE_MAX:
        return reject(Reason.VALIDATION_ERROR, "quantities start at 1")
    return None


def _decide_withhold_units(inventory: Inventory, command: WithholdUnits) -> Decision | Rejected:
    rejected = _check_units_request(inventory, command)
    if rejected is not None:
        return rejected
    if inventory.counts[command.ticket_type_id].available < command.quantity:
        return reject(Reason.SOLD_OUT, "not enough available to withhold")
    change = UnitsWithheld(
        ticket_type_id=command.ticket_type_id,
        quantity=command.quantity,
        withholding=command.withholding,
    )
    return Decision(outcome=Acknowledged(), changes=(change,))


def _decide_return_withheld_units(
    inventory: Inventory, command: ReturnWithheldUnits
) -> Decision | Rejected:
    rejected = _check_units_request(inventory, command)
    if rejected is not None:
        return rejected
    if inventory.counts[command.ticket_type_id].withheld[command.withholding] < command.quantity:
        return reject(
            Reason.VALIDATION_ERROR, f"fewer than that are withheld as {command.withholding}"
        )
    change = WithheldUnitsReturned(
        ticket_type_id=command.ticket_type_id,
        quantity=command.quantity,
        withholding=command.withholding,
    )
    return Decision(outcome=Acknowledged(), changes=(change,))


def _decide_change_sale_settings(
    inventory: Inventory, command: ChangeSaleSettings
) -> Decision | Rejected:
    """The merged settings, checked whole; no change when they are what they were."""
    configuration = inventory.configuration
    current = SaleSettingsChanged(
        opens_at_ms=configuration.opens_at_ms,
        closes_at_ms=configuration.closes_at_ms,
        hold_ttl_ms=configuration.hold_ttl_ms,
        max_tickets_per_user=configuration.max_tickets_per_user,
    )
    change = SaleSettingsChanged(
        opens_at_ms=_given_or(command.opens_at_ms, current.opens_at_ms),
        closes_at_ms=_given_or(command.closes_at_ms, current.closes_at_ms),
        hold_ttl_ms=_given_or(command.hold_ttl_ms, current.hold_ttl_ms),
        max_tickets_per_user=_given_or(command.max_tickets_per_user, current.max_tickets_per_user),
    )
    problems = _sale_settings_problems(
        change.opens_at_ms, change.closes_at_ms, change.hold_ttl_ms, change.max_tickets_per_user
    )
    if problems:
        field, message = next(iter(problems.items()))
        if field == "closes_at" and isinstance(command.closes_at_ms, msgspec.UnsetType):
            field = "opens_at"
        return reject(Reason.VALIDATION_ERROR, message, field=field)
    return Decision(outcome=Acknowledged(), changes=() if change == current else (change,))


def _given_or(value: Setting | msgspec.UnsetType, current: Setting) -> Setting:
    return current if isinstance(value, msgspec.UnsetType) else value


def apply(inventory: Inventory, change: Change) -> None:
    match change:
        case HoldPlaced(hold=hold):
            _add_hold(inventory, hold)
        case IdempotencyKeyRecorded(record=record):
            assert record.key not in inventory.idempotency_records
            inventory.idempotency_records[record.key] = record
        case HoldReleased(hold_id=hold_id):
            _remove_hold(inventory, inventory.holds[hold_id])
        case HoldsExpired(hold_ids=hold_ids):
            for hold_id in hold_ids:
                _remove_hold(inventory, inventory.holds[hold_id])
        case HoldExtended(hold_id=hold_id, expires_at_ms=expires_at_ms):
            hold = inventory.holds[hold_id]
            inventory.expiry.remove(hold)
            extended = msgspec.structs.replace(
                hold, expires_at_ms=expires_at_ms, extensions=hold.extensions + 1
            )
            inventory.holds[hold_id] = extended
            inventory.expiry.add(extended)
        case HoldConverted(hold_id=hold_id, sale=sale):
            hold = inventory.holds[hold_id]
            assert (hold.items, hold.seats, hold.fan_id) == (sale.items, sale.seats, sale.fan_id)
            _remove_hold(inventory, hold)
            _add_sale(inventory, sale)
        case OrderRefunded(order_id=order_id) | OrderCancelled(order_id=order_id):
            _remove_sale(inventory, inventory.sales[order_id])
        case CompsIssued(sale=sale, allocation=allocation):
            if sale.seats:
                _unblock_seats(inventory, sale.seats)
            else:
                for item in sale.items:
                    _return_withheld_units(
                        inventory, item.ticket_type_id, item.quantity, allocation
                    )
            _add_sale(inventory, sale)
        case SeatsBlocked(seats=seats, withholding=withholding):
            _block_seats(inventory, seats, withholding)
        case SeatsUnblocked(seats=seats):
            _unblock_seats(inventory, seats)
        case UnitsWithheld(
            ticket_type_id=ticket_type_id, quantity=quantity, withholding=withholding
        ):
            _withhold_units(inventory, ticket_type_id, quantity, withholding)
        case WithheldUnitsReturned(
            ticket_type_id=ticket_type_id, quantity=quantity, withholding=withholding
        ):
            _return_withheld_units(inventory, ticket_type_id, quantity, withholding)
        case SalePaused():
            inventory.paused = True
        case SaleResumed():
            inventory.paused = False
        case SaleSettingsChanged():
            inventory.configuration = msgspec.structs.replace(
                inventory.configuration,
                opens_at_ms=change.opens_at_ms,
                closes_at_ms=change.closes_at_ms,
                hold_ttl_ms=change.hold_ttl_ms,
                max_tickets_per_user=change.max_tickets_per_user,
            )
        case IdempotencyKeysForgotten(keys=keys):
            for key in keys:
                del inventory.idempotency_records[key]
        case _:
            assert_never(change)


def _seat_indexes(inventory: Inventory, seat_ids: Iterable[SeatId]) -> list[int]:
    seat_indexes = [inventory.seat_map.seat_index(seat_id) for seat_id in seat_ids]
    assert None not in seat_indexes
    return [seat_index for seat_index in seat_indexes if seat_index is not None]


def _move_seats(
    inventory: Inventory, seat_ids: Sequence[SeatId], before: SeatState, after: SeatState
) -> None:
    if not seat_ids:
        return
    seat_indexes = _seat_indexes(inventory, seat_ids)
    states = inventory.seat_states.states
    assert all(states[seat_index] == before for seat_index in seat_indexes)
    inventory.seat_states.set_states(seat_indexes, after)


def _add_tickets_of_fan(inventory: Inventory, fan_id: FanId, quantity: int) -> None:
    tickets = inventory.tickets_by_fan.get(fan_id, 0) + quantity
    assert tickets >= 0
    if tickets:
        inventory.tickets_by_fan[fan_id] = tickets
    else:
        inventory.tickets_by_fan.pop(fan_id, None)


def _add_hold(inventory: Inventory, hold: Hold) -> None:
    assert hold.hold_id not in inventory.holds
    for item in hold.items:
        counts = inventory.counts[item.ticket_type_id]
        assert counts.available >= item.quantity
        counts.available -= item.quantity
        counts.held += item.quantity
    _move_seats(inventory, hold.seats, SeatState.AVAILABLE, SeatState.HELD)
    inventory.holds[hold.hold_id] = hold
    inventory.expiry.add(hold)
    _add_tickets_of_fan(inventory, hold.fan_id, hold.quantity)


def _remove_hold(inventory: Inventory, hold: Hold) -> None:
    for item in hold.items:
        counts = inventory.counts[item.ticket_type_id]
        counts.held -= item.quantity
        counts.available += item.quantity
    _move_seats(inventory, hold.seats, SeatState.HELD, SeatState.AVAILABLE)
    del inventory.holds[hold.hold_id]
    inventory.expiry.remove(hold)
    _add_tickets_of_fan(inventory, hold.fan_id, -hold.quantity)


def _add_sale(inventory: Inventory, sale: Sale) -> None:
    assert sale.order_id not in inventory.sales
    for item in sale.items:
        counts = inventory.counts[item.ticket_type_id]
        assert counts.available >= item.quantity
        counts.available -= item.quantity
        counts.sold += item.quantity
    _move_seats(inventory, sale.seats, SeatState.AVAILABLE, SeatState.SOLD)
    inventory.sales[sale.order_id] = sale
    if not sale.complimentary:
        _add_tickets_of_fan(inventory, sale.fan_id, sale.quantity)


def _remove_sale(inventory: Inventory, sale: Sale) -> None:
    for item in sale.items:
        counts = inventory.counts[item.ticket_type_id]
        counts.sold -= item.quantity
        counts.available += item.quantity
    _move_seats(inventory, sale.seats, SeatState.SOLD, SeatState.AVAILABLE)
    del inventory.sales[sale.order_id]
    if not sale.complimentary:
        _add_tickets_of_fan(inventory, sale.fan_id, -sale.quantity)


def _block_seats(
    inventory: Inventory, seat_ids: Iterable[SeatId], withholding: Withholding
) -> None:
    seat_indexes = _seat_indexes(inventory, seat_ids)
    states = inventory.seat_states.states
    for seat_index in seat_indexes:
        assert states[seat_index] == SeatState.AVAILABLE
        counts = inventory.counts[inventory.seat_map.ticket_type_of(seat_index)]
        counts.available -= 1
        counts.withheld[withholding] += 1
    inventory.seat_states.set_states(seat_indexes, WITHHOLDING_SEAT_STATES[withholding])


def _unblock_seats(inventory: Inventory, seat_ids: Iterable[SeatId]) -> None:
    seat_indexes = _seat_indexes(inventory, seat_ids)
    states = inventory.seat_states.states
    for seat_index in seat_indexes:
        withholding = SEAT_STATE_WITHHOLDINGS[SeatState(states[seat_index])]
        counts = inventory.counts[inventory.seat_map.ticket_type_of(seat_index)]
        counts.withheld[withholding] -= 1
        counts.available += 1
    inventory.seat_states.set_states(seat_indexes, SeatState.AVAILABLE)


def _withhold_units(
    inventory: Inventory, ticket_type_id: TicketTypeId, quantity: int, withholding: Withholding
) -> None:
    counts = inventory.counts[ticket_type_id]
    assert counts.available >= quantity
    counts.available -= quantity
    counts.withheld[withholding] += quantity


def _return_withheld_units(
    inventory: Inventory, ticket_type_id: TicketTypeId, quantity: int, withholding: Withholding
) -> None:
    counts = inventory.counts[ticket_type_id]
    assert counts.withheld[withholding] >= quantity
    counts.withheld[withholding] -= quantity
    counts.available += quantity
