"""The net effect of one batch of an inventory's changes, folded in order with no I/O: the final
state of every hold, sale, seat and count it touches, and the outbox rows it leaves.

Pure (no asyncpg): persistence.inventory_rows turns the effect into the arrays each statement
writes, persistence.inventory_writes runs them. A new change kind goes into `referenced_ids`,
`_fold_change` and persistence.inventory_outbox's `OUTBOX_TOPICS` together (a wait-list change,
into persistence.wait_list_batch).
"""

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from typing import assert_never

import msgspec

from engine.changes import (
    CapacityAdded,
    Change,
    CodeActiveChanged,
    CodesAdded,
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
    SaleCancelled,
    SalePaused,
    SaleResumed,
    SaleSettingsChanged,
    SeatsBlocked,
    SeatsUnblocked,
    TicketsReturned,
    TicketTypeSaleChanged,
    UnitsWithheld,
    WaitListJoined,
    WaitListLeft,
    WaitListOfferConverted,
    WaitListOffered,
    WaitListOffersExpired,
    WithheldUnitsReturned,
)
from engine.commands import Withholding
from engine.hold_lifecycle import HoldStatus
from engine.holds import Hold, Sale, sale_after_return
from engine.ids import (
    CodeId,
    HoldId,
    IdempotencyKey,
    OrderId,
    SeatId,
    TicketTypeId,
    WaitListEntryId,
)
from engine.inventory.codes import CodeDefinition
from engine.inventory.unit_counts import WITHHOLDING_SEAT_STATES
from engine.outcomes import IdempotencyRecord
from engine.pricing import Price, price_order
from engine.seat_map import SeatState
from persistence.inventory_outbox import outbox_row
from persistence.wait_list_batch import WaitListDraft, fold_wait_list_change

SEAT_STATE_NAMES: dict[SeatState, str] = {state: state.name.lower() for state in SeatState}
WITHHELD_SEAT_STATE_NAMES = tuple(
    SEAT_STATE_NAMES[state] for state in WITHHOLDING_SEAT_STATES.values()
)
# The state a seat leaves when it is unblocked without the batch knowing which withholding it had.
ANY_WITHHELD_STATE = "withheld"
AVAILABLE_SEAT = SEAT_STATE_NAMES[SeatState.AVAILABLE]
HELD_SEAT = SEAT_STATE_NAMES[SeatState.HELD]
SOLD_SEAT = SEAT_STATE_NAMES[SeatState.SOLD]

ACTIVE = HoldStatus.ACTIVE.value
RELEASED = HoldStatus.RELEASED.value
EXPIRED = HoldStatus.EXPIRED.value
CONVERTED = HoldStatus.CONVERTED.value
LIVE = "live"
REFUNDED = "refunded"
CANCELLED = "cancelled"


@dataclasses.dataclass(slots=True)
class HoldDraft:
    hold: Hold
    status: str
    is_new: bool


@dataclasses.dataclass(slots=True)
class SaleDraft:
    sale: Sale
    status: str
    is_new: bool
    hold_id: HoldId | None = None
    allocation: Withholding | None = None
    price: Price | None = None
    # what a partial return took out of a sale that existed before the batch
    returned: dict[TicketTypeId, int] = dataclasses.field(default_factory=dict)
    returned_seats: list[SeatId] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class SeatMove:
    before: str
    after: str


@dataclasses.dataclass(slots=True)
class BatchEffect:
    """The net effect of one batch: the final state of everything it touched."""

    holds: dict[HoldId, HoldDraft] = dataclasses.field(default_factory=dict)
    sales: dict[OrderId, SaleDraft] = dataclasses.field(default_factory=dict)
    seats: dict[SeatId, SeatMove] = dataclasses.field(default_factory=dict)
    withheld_deltas: dict[tuple[TicketTypeId, Withholding], int] = dataclasses.field(
        default_factory=dict
    )
    recorded: dict[IdempotencyKey, IdempotencyRecord] = dataclasses.field(default_factory=dict)
    forgotten: set[IdempotencyKey] = dataclasses.field(default_factory=set)
    capacity_added: dict[TicketTypeId, int] = dataclasses.field(default_factory=dict)
    paused: bool | None = None
    cancellation_reason: str | None = None
    settings: SaleSettingsChanged | None = None
    ticket_type_sales: dict[TicketTypeId, TicketTypeSaleChanged] = dataclasses.field(
        default_factory=dict
    )
    outbox: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    wait_list: dict[WaitListEntryId, WaitListDraft] = dataclasses.field(default_factory=dict)
    new_codes: list[CodeDefinition] = dataclasses.field(default_factory=list)
    code_activity: dict[CodeId, bool] = dataclasses.field(default_factory=dict)

    def move_seats(self, seats: Iterable[SeatId], before: str, after: str) -> None:
        for seat_id in seats:
            move = self.seats.get(seat_id)
            if move is None:
                self.seats[seat_id] = SeatMove(before=before, after=after)
                continue
            left = move.after
            if before == ANY_WITHHELD_STATE:
                assert left in WITHHELD_SEAT_STATE_NAMES, (seat_id, left)
            else:
                assert left == before, (seat_id, left, before)
            move.after = after

    def end_hold(self, hold_id: HoldId, status: str) -> Hold:
        draft = self.holds[hold_id]
        assert draft.status == ACTIVE, (hold_id, draft.status)
        draft.status = status
        return draft.hold

    def add_sale(self, draft: SaleDraft) -> None:
        assert draft.sale.order_id not in self.sales, draft.sale.order_id
        self.sales[draft.sale.order_id] = draft
        self.move_seats(
            draft.sale.seats,
            SEAT_STATE_NAMES[SeatState.HELD]
            if draft.allocation is None
            else SEAT_STATE_NAMES[WITHHOLDING_SEAT_STATES[draft.allocation]],
            SEAT_STATE_NAMES[SeatState.SOLD],
        )

    def add_withheld(
        self, ticket_type_id: TicketTypeId, withholding: Withholding, delta: int
    ) -> None:
        key = (ticket_type_id, withholding)
        self.withheld_deltas[key] = self.withheld_deltas.get(key, 0) + delta


def referenced_ids(changes: Sequence[Change]) -> tuple[list[HoldId], list[OrderId]]:
    """Holds and sales the batch changes that it did not create: they must already be live."""
    placed: set[HoldId] = set()
    sold: set[OrderId] = set()
    holds: list[HoldId] = []
    sales: list[OrderId] = []
    for change in changes:
        match change:
            case HoldPlaced(hold=hold):
                placed.add(hold.hold_id)
            case HoldReleased(hold_id=hold_id) | HoldExtended(hold_id=hold_id):
                holds.append(hold_id)
            case HoldConverted(hold_id=hold_id, sale=sale):
                holds.append(hold_id)
                sold.add(sale.order_id)
            case HoldsExpired(hold_ids=hold_ids):
                holds.extend(hold_ids)
            case CompsIssued(sale=sale):
                sold.add(sale.order_id)
            case (
                OrderRefunded(order_id=order_id)
                | OrderCancelled(order_id=order_id)
                | TicketsReturned(order_id=order_id)
            ):
                sales.append(order_id)
            case (
                SeatsBlocked()
                | SeatsUnblocked()
                | UnitsWithheld()
                | WithheldUnitsReturned()
                | CapacityAdded()
                | SalePaused()
                | SaleResumed()
                | SaleCancelled()
                | SaleSettingsChanged()
                | TicketTypeSaleChanged()
                | IdempotencyKeyRecorded()
                | IdempotencyKeysForgotten()
                | WaitListJoined()
                | WaitListLeft()
                | WaitListOffered()
                | WaitListOffersExpired()
                | WaitListOfferConverted()
                | CodesAdded()
                | CodeActiveChanged()
            ):
                pass
            case _:
                assert_never(change)
    return (
        list(dict.fromkeys(hold_id for hold_id in holds if hold_id not in placed)),
        list(dict.fromkeys(order_id for order_id in sales if order_id not in sold)),
    )


def net_effect(
    changes: Sequence[Change],
    existing_holds: Iterable[Hold],
    existing_sales: Iterable[Sale],
    event_id: uuid.UUID,
    now_ms: int,
) -> BatchEffect:
    """Fold the batch, in order, into the final state of each hold, sale, seat and count."""
    effect = BatchEffect()
    for hold in existing_holds:
        effect.holds[hold.hold_id] = HoldDraft(hold=hold, status=ACTIVE, is_new=False)
    for sale in existing_sales:
        effect.sales[sale.order_id] = SaleDraft(sale=sale, status=LIVE, is_new=False)
    for change in changes:
        _fold_change(effect, change)
        row = outbox_row(change, event_id, now_ms)
        if row is not None:
            effect.outbox.append(row)
    return effect


def _fold_change(effect: BatchEffect, change: Change) -> None:
    """One change of a hold or a sale; the venue's changes go on to `_fold_venue_change`."""
    match change:
        case HoldPlaced(hold=hold):
            assert hold.hold_id not in effect.holds, hold.hold_id
            effect.holds[hold.hold_id] = HoldDraft(hold=hold, status=ACTIVE, is_new=True)
            effect.move_seats(hold.seats, AVAILABLE_SEAT, HELD_SEAT)
        case HoldReleased(hold_id=hold_id):
            effect.move_seats(effect.end_hold(hold_id, RELEASED).seats, HELD_SEAT, AVAILABLE_SEAT)
        case HoldsExpired(hold_ids=hold_ids):
            for hold_id in hold_ids:
                effect.move_seats(
                    effect.end_hold(hold_id, EXPIRED).seats, HELD_SEAT, AVAILABLE_SEAT
                )
        case HoldExtended(hold_id=hold_id, expires_at_ms=expires_at_ms):
            hold_draft = effect.holds[hold_id]
            assert hold_draft.status == ACTIVE, hold_id
            hold_draft.hold = msgspec.structs.replace(
                hold_draft.hold,
                expires_at_ms=expires_at_ms,
                extensions=hold_draft.hold.extensions + 1,
            )
        case HoldConverted(hold_id=hold_id, sale=sale, price=price):
            effect.end_hold(hold_id, CONVERTED)
            effect.add_sale(
                SaleDraft(sale=sale, status=LIVE, is_new=True, hold_id=hold_id, price=price)
            )
        case OrderRefunded(order_id=order_id) | OrderCancelled(order_id=order_id):
            sale_draft = effect.sales[order_id]
            assert sale_draft.status == LIVE, order_id
            sale_draft.status = REFUNDED if isinstance(change, OrderRefunded) else CANCELLED
            effect.move_seats(sale_draft.sale.seats, SOLD_SEAT, AVAILABLE_SEAT)
        case TicketsReturned(order_id=order_id, seats=seats, items=items):
            sale_draft = effect.sales[order_id]
            assert sale_draft.status == LIVE, order_id
            sale_draft.sale = sale_after_return(sale_draft.sale, seats, items)
            sale_draft.returned_seats.extend(seats)
            if not sale_draft.is_new:
                for item in items:
                    sale_draft.returned[item.ticket_type_id] = (
                        sale_draft.returned.get(item.ticket_type_id, 0) + item.quantity
                    )
            effect.move_seats(seats, SOLD_SEAT, AVAILABLE_SEAT)
        case CompsIssued(sale=sale, allocation=allocation):
            effect.add_sale(
                SaleDraft(
                    sale=sale,
                    status=LIVE,
                    is_new=True,
                    allocation=allocation,
                    price=price_order(sale.subtotal_cents),
                )
            )
            if not sale.seats:
                for item in sale.items:
                    effect.add_withheld(item.ticket_type_id, allocation, -item.quantity)
        case (
            WaitListJoined()
            | WaitListLeft()
            | WaitListOffered()
            | WaitListOffersExpired()
            | WaitListOfferConverted()
        ):
            fold_wait_list_change(effect.wait_list, change)
        case CodesAdded(codes=codes):
            effect.new_codes.extend(codes)
        case CodeActiveChanged(code_id=code_id, active=active):
            effect.code_activity[code_id] = active
        case _:
            _fold_venue_change(effect, change)


def _fold_venue_change(
    effect: BatchEffect,
    change: SeatsBlocked
    | SeatsUnblocked
    | UnitsWithheld
    | WithheldUnitsReturned
    | CapacityAdded
    | SalePaused
    | SaleResumed
    | SaleCancelled
    | SaleSettingsChanged
    | TicketTypeSaleChanged
    | IdempotencyKeyRecorded
    | IdempotencyKeysForgotten,
) -> None:
    match change:
        case SeatsBlocked(seats=seats, withholding=withholding):
            effect.move_seats(
                seats, AVAILABLE_SEAT, SEAT_STATE_NAMES[WITHHOLDING_SEAT_STATES[withholding]]
            )
        case SeatsUnblocked(seats=seats):
            effect.move_seats(seats, ANY_WITHHELD_STATE, AVAILABLE_SEAT)
        case UnitsWithheld(
            ticket_type_id=ticket_type_id, quantity=quantity, withholding=withholding
        ):
            effect.add_withheld(ticket_type_id, withholding, quantity)
        case WithheldUnitsReturned(
            ticket_type_id=ticket_type_id, quantity=quantity, withholding=withholding
        ):
            effect.add_withheld(ticket_type_id, withholding, -quantity)
        case CapacityAdded(ticket_type_id=ticket_type_id, quantity=quantity):
            added = effect.capacity_added
            added[ticket_type_id] = added.get(ticket_type_id, 0) + quantity
        case SalePaused():
            effect.paused = True
        case SaleResumed():
            effect.paused = False
        case SaleCancelled(reason=reason):
            effect.cancellation_reason = reason
        case SaleSettingsChanged():
            effect.settings = change
        case TicketTypeSaleChanged(ticket_type_id=ticket_type_id):
            effect.ticket_type_sales[ticket_type_id] = change
        case IdempotencyKeyRecorded(record=record):
            assert record.key not in effect.recorded, record.key
            effect.recorded[record.key] = record
        case IdempotencyKeysForgotten(keys=keys):
            for key in keys:
                if effect.recorded.pop(key, None) is None:
                    effect.forgotten.add(key)
        case _:
            assert_never(change)
